"""Assignments inside an LMS or an autograder: quiz and bundle exports (registered in
:mod:`gradegen.exports.formats`), after reports in the data flow."""
