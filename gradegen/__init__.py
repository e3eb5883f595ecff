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
    "Spec": "gradegen.spec",
    "Layer": "gradegen.spec",
    "Activation": "gradegen.spec",
    "Loss": "gradegen.spec",
    "load_spec": "gradegen.spec",
    "parse_spec": "gradegen.spec",
    "preset": "gradegen.spec",
    "preset_text": "gradegen.spec",
    "Preset": "gradegen.presets",
    "Graph": "gradegen.graph",
    "Node": "gradegen.graph",
    "Values": "gradegen.graph",
    "Kind": "gradegen.graph",
    "Group": "gradegen.graph",
    "build_graph": "gradegen.network",
    "Solution": "gradegen.training",
    "solve": "gradegen.training",
    "train": "gradegen.training",
    "Draw": "gradegen.spec",
    "Randomize": "gradegen.spec",
    "VariantSet": "gradegen.variants",
    "make_variants": "gradegen.variants",
    "keys_document": "gradegen.variants",
    "default_randomize": "gradegen.variants",
    "new_seed": "gradegen.variants",
    "Roster": "gradegen.roster",
    "RosterError": "gradegen.roster",
    "Student": "gradegen.roster",
    "read_roster": "gradegen.roster",
    "parse_roster": "gradegen.roster",
    "anonymous_ids": "gradegen.roster",
    "folder_names": "gradegen.roster",
    "safe_folder_name": "gradegen.roster",
    "progress": "gradegen.progress",
    "generate": "gradegen.documents",
    "generate_class": "gradegen.documents",
    "render_documents": "gradegen.render",
    "DocumentPlan": "gradegen.plan",
    "build_plan": "gradegen.plan",
    "latex_escape": "gradegen.escape",
    "md_escape": "gradegen.escape",
    "compile_pdf": "gradegen.pdf",
    "find_engine": "gradegen.pdf",
    "Key": "gradegen.key",
    "load_key": "gradegen.key",
    "make_key": "gradegen.key",
    "grade": "gradegen.grading",
    "grade_group": "gradegen.grading",
    "load_answer_key": "gradegen.grading",
    "key_from_spec": "gradegen.grading",
    "parse_answer": "gradegen.grading",
    "parse_column": "gradegen.grading",
    "is_close": "gradegen.grading",
    "half_width": "gradegen.grading",
    "Rule": "gradegen.grading",
    "KeySet": "gradegen.grading",
    "Parsed": "gradegen.grading",
    "Status": "gradegen.grading",
    "Verdict": "gradegen.grading",
    "ItemResult": "gradegen.grading",
    "StudentResult": "gradegen.grading",
    "GradingResults": "gradegen.grading",
    "Mistake": "gradegen.diagnosis",
    "EXPLANATIONS": "gradegen.diagnosis",
    "variant_graphs": "gradegen.diagnosis",
    "Submissions": "gradegen.submissions",
    "FileError": "gradegen.submissions",
    "read_submissions": "gradegen.submissions",
    "write_reports": "gradegen.reports",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from gradegen.diagnosis import EXPLANATIONS, Mistake, variant_graphs
    from gradegen.documents import generate, generate_class
    from gradegen.errors import GradegenError, SpecError
    from gradegen.escape import latex_escape, md_escape
    from gradegen.grading import (
        GradingResults,
        ItemResult,
        KeySet,
        Parsed,
        Rule,
        Status,
        StudentResult,
        Verdict,
        grade,
        grade_group,
        half_width,
        is_close,
        key_from_spec,
        load_answer_key,
        parse_answer,
        parse_column,
    )
    from gradegen.graph import Graph, Group, Kind, Node, Values
    from gradegen.key import Key, load_key, make_key
    from gradegen.network import build_graph
    from gradegen.pdf import compile_pdf, find_engine
    from gradegen.plan import DocumentPlan, build_plan
    from gradegen.presets import Preset
    from gradegen.progress import progress
    from gradegen.render import render_documents
    from gradegen.reports import write_reports
    from gradegen.roster import (
        Roster,
        RosterError,
        Student,
        anonymous_ids,
        folder_names,
        parse_roster,
        read_roster,
        safe_folder_name,
    )
    from gradegen.spec import (
        Activation,
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
    from gradegen.submissions import FileError, Submissions, read_submissions
    from gradegen.training import Solution, solve, train
    from gradegen.variants import VariantSet, default_randomize, keys_document, make_variants, new_seed


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gradegen' has no attribute {name!r}")
