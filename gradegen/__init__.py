"""gradegen: exact backpropagation exercises, worked solutions, variants and grading.

The public API, for instructors' scripts::

    from gradegen import load_spec, build_graph, solve
    spec = load_spec("net.yaml")          # or load_spec() for the handout network
    graph = build_graph(spec)
    exact = graph.evaluate()              # every quantity, float64, over a batch axis
    hand = graph.evaluate(hand=True)      # rounded the way a student on paper rounds
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Names are imported on first use, so that `gradegen --help` does not pay for numpy and pydantic.
_EXPORTS = {
    "GradegenError": "gradegen.errors",
    "SpecError": "gradegen.errors",
    "Spec": "gradegen.core.spec",
    "Layer": "gradegen.core.spec",
    "Activation": "gradegen.core.spec",
    "Loss": "gradegen.core.spec",
    "Documents": "gradegen.core.spec",
    "Style": "gradegen.core.options",
    "Diagram": "gradegen.core.options",
    "Level": "gradegen.core.options",
    "with_documents": "gradegen.core.options",
    "load_spec": "gradegen.core.spec",
    "parse_spec": "gradegen.core.spec",
    "preset": "gradegen.core.spec",
    "preset_text": "gradegen.core.spec",
    "Preset": "gradegen.presets",
    "Graph": "gradegen.core.graph",
    "Node": "gradegen.core.graph",
    "Values": "gradegen.core.graph",
    "Kind": "gradegen.core.graph",
    "Role": "gradegen.core.graph",
    "Group": "gradegen.core.graph",
    "build_graph": "gradegen.core.network",
    "Solution": "gradegen.core.training",
    "solve": "gradegen.core.training",
    "train": "gradegen.core.training",
    "Draw": "gradegen.core.spec",
    "Randomize": "gradegen.core.spec",
    "VariantSet": "gradegen.variants.draw",
    "make_variants": "gradegen.variants.draw",
    "keys_document": "gradegen.variants.draw",
    "keys_json": "gradegen.variants.draw",
    "ClassKeys": "gradegen.core.classkeys",
    "student_key": "gradegen.core.classkeys",
    "load_keys": "gradegen.core.classkeys",
    "default_randomize": "gradegen.variants.defaults",
    "new_seed": "gradegen.variants.streams",
    "Roster": "gradegen.variants.roster",
    "RosterError": "gradegen.variants.roster",
    "Student": "gradegen.variants.roster",
    "read_roster": "gradegen.variants.roster",
    "parse_roster": "gradegen.variants.roster",
    "anonymous_ids": "gradegen.variants.roster",
    "folder_names": "gradegen.names",
    "safe_folder_name": "gradegen.names",
    "progress": "gradegen.progress",
    "generate": "gradegen.documents.generate",
    "generate_class": "gradegen.documents.generate",
    "render_documents": "gradegen.documents.render",
    "fixed_quantities": "gradegen.core.network",
    "accepted": "gradegen.core.tolerance",
    "mathml": "gradegen.documents.html",
    "practice_key": "gradegen.grading.practice",
    "feedback_html": "gradegen.reports.feedback_html",
    "DocumentPlan": "gradegen.documents.items",
    "build_plan": "gradegen.documents.plan",
    "latex_escape": "gradegen.escape",
    "md_escape": "gradegen.escape",
    "compile_pdf": "gradegen.documents.pdf",
    "find_engine": "gradegen.documents.pdf",
    "Key": "gradegen.core.key",
    "load_key": "gradegen.core.key",
    "make_key": "gradegen.core.key",
    "grade": "gradegen.grading.grade",
    "grade_group": "gradegen.grading.grade",
    "load_answer_key": "gradegen.grading.keys",
    "key_from_spec": "gradegen.grading.keys",
    "parse_answer": "gradegen.grading.parse",
    "parse_column": "gradegen.grading.parse",
    "is_close": "gradegen.grading.compare",
    "half_width": "gradegen.grading.compare",
    "Rule": "gradegen.grading.compare",
    "KeySet": "gradegen.core.classkeys",
    "Parsed": "gradegen.grading.parse",
    "Status": "gradegen.grading.parse",
    "Verdict": "gradegen.grading.results",
    "ItemResult": "gradegen.grading.results",
    "StudentResult": "gradegen.grading.results",
    "GradingResults": "gradegen.grading.results",
    "Mistake": "gradegen.grading.diagnosis",
    "EXPLANATIONS": "gradegen.grading.diagnosis",
    "variant_graphs": "gradegen.grading.diagnosis",
    "Submissions": "gradegen.grading.submissions",
    "FileError": "gradegen.grading.submissions",
    "read_submissions": "gradegen.grading.submissions",
    "write_reports": "gradegen.reports.write",
    "write_gradebook": "gradegen.reports.write",
    "Sheet": "gradegen.reports.sheet",
    "Lms": "gradegen.variants.exports",
    "roster_of": "gradegen.variants.roster",
    "export_moodle": "gradegen.exports.moodle",
    "export_gradescope": "gradegen.exports.gradescope",
    "export_canvas": "gradegen.exports.canvas",
    "run_autograder": "gradegen.exports.gradescope",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from gradegen.core.classkeys import ClassKeys, KeySet, load_keys, student_key
    from gradegen.core.graph import Graph, Group, Kind, Node, Role, Values
    from gradegen.core.key import Key, load_key, make_key
    from gradegen.core.network import build_graph, fixed_quantities
    from gradegen.core.options import Diagram, Level, Style, with_documents
    from gradegen.core.spec import (
        Activation,
        Documents,
        Draw,
        Layer,
        Loss,
        Randomize,
        Spec,
        load_spec,
        parse_spec,
        preset,
        preset_text,
    )
    from gradegen.core.tolerance import accepted
    from gradegen.core.training import Solution, solve, train
    from gradegen.documents.generate import generate, generate_class
    from gradegen.documents.html import mathml
    from gradegen.documents.items import DocumentPlan
    from gradegen.documents.pdf import compile_pdf, find_engine
    from gradegen.documents.plan import build_plan
    from gradegen.documents.render import render_documents
    from gradegen.errors import GradegenError, SpecError
    from gradegen.escape import latex_escape, md_escape
    from gradegen.exports.canvas import export_canvas
    from gradegen.exports.gradescope import export_gradescope, run_autograder
    from gradegen.exports.moodle import export_moodle
    from gradegen.grading.compare import Rule, half_width, is_close
    from gradegen.grading.diagnosis import EXPLANATIONS, Mistake, variant_graphs
    from gradegen.grading.grade import grade, grade_group
    from gradegen.grading.keys import key_from_spec, load_answer_key
    from gradegen.grading.parse import Parsed, Status, parse_answer, parse_column
    from gradegen.grading.practice import practice_key
    from gradegen.grading.results import GradingResults, ItemResult, StudentResult, Verdict
    from gradegen.grading.submissions import FileError, Submissions, read_submissions
    from gradegen.names import folder_names, safe_folder_name
    from gradegen.presets import Preset
    from gradegen.progress import progress
    from gradegen.reports.feedback_html import feedback_html
    from gradegen.reports.sheet import Sheet
    from gradegen.reports.write import write_gradebook, write_reports
    from gradegen.variants.defaults import default_randomize
    from gradegen.variants.draw import VariantSet, keys_document, keys_json, make_variants
    from gradegen.variants.exports import Lms
    from gradegen.variants.roster import (
        Roster,
        RosterError,
        Student,
        anonymous_ids,
        parse_roster,
        read_roster,
        roster_of,
    )
    from gradegen.variants.streams import new_seed


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gradegen' has no attribute {name!r}")
