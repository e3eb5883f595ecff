"""The plain files beside the documents: the blank answer sheet and the key."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from gradegen.core.key import Key
from gradegen.core.spec import Spec


def key_json(key: Key) -> str:
    """key.json's text: the key as JSON, indented, with a final newline."""
    return json.dumps(key.to_dict(), indent=2) + "\n"


def answers_yaml(spec: Spec, asked: Sequence[str], precision: Mapping[str, str], student: str | None) -> str:
    """The blank answer sheet: ``student:`` then one key per asked id, commented with its question."""
    return _answers(spec, asked, precision, json.dumps(student or "", ensure_ascii=False))


def _answers(spec: Spec, asked: Sequence[str], precision: Mapping[str, str], student: str) -> str:
    title = " ".join(spec.title.split())
    lines = [
        f"# Answer sheet: {title}",
        "# Write each answer after its colon, as a number. Keep the IDs as they are.",
        f"student: {student}",
    ]
    width = max((len(q) for q in asked), default=0) + 2
    for number, qid in enumerate(asked, start=1):
        lines.append(f"{qid + ':':<{width}}# question {number}, {precision[qid]}")
    return "\n".join(lines) + "\n"
