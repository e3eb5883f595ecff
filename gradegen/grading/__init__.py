"""Grading: reading submissions, parsing answers, comparing, follow-through and diagnosis."""
