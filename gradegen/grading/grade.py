"""Grading students' answers: parse → compare → follow-through → diagnose, column by column.

The three steps are separate, as in PrairieLearn: :func:`parse_answer` turns a cell into a number
or says why it cannot; the comparators (:func:`half_width`, :func:`is_close`) only compare; the
verdicts, follow-through and diagnoses are decided over whole columns of students at once.

* An answer is **correct** when it lies in the accepted interval: the hull of the intervals the
  rule gives around the exact value and around the hand value. An updated parameter is judged by
  the step it implies (``w − answer`` against ``η·∂L/∂w``); its accepted interval is the interval
  of answers whose step is accepted.
* It earns **follow-through** when it is wrong, but matches (under the same rule) what the graph
  gives from the student's own answers for the quantities it directly depends on, at least one of
  which is itself wrong and none of the wrong ones 0.
* A wrong answer is then compared with what common mistakes produce (:mod:`gradegen.grading.diagnosis`).
"""

from __future__ import annotations

import difflib
import math
import mmap
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gradegen.core.classkeys import ClassKeys, KeySet
from gradegen.core.graph import Array, Kind, Values
from gradegen.core.key import Key
from gradegen.core.tolerance import accepted
from gradegen.errors import GradegenError
from gradegen.files import in_second_process
from gradegen.grading.compare import Rule, _match
from gradegen.grading.diagnosis import EXPLANATIONS, Mistake, in_space, references
from gradegen.grading.keys import KeyColumns, KeyLike, _resolve_key, has_key, key_columns, key_groups
from gradegen.grading.parse import parse_column
from gradegen.grading.results import (
    DEFAULT_ECF_CREDIT,
    MISTAKES,
    VERDICTS,
    GradingResults,
    GroupResult,
    Verdict,
    _Column,
)
from gradegen.grading.submissions import FileError, Submissions, read_submissions
from gradegen.variants.roster import Roster


def grade(
    key: KeyLike,
    submissions: Submissions | Iterable[str | Path],
    *,
    rtol: float | None = None,
    atol: float | None = None,
    ecf_credit: float = DEFAULT_ECF_CREDIT,
    roster: Roster | None = None,
) -> GradingResults:
    """Grade submissions against a key (or per-student keys, or a spec asking everything).

    ``rtol``/``atol`` replace every item's rule; ``ecf_credit`` is the share of an item's points a
    follow-through answer earns. Broken submissions are reported in the results, never raised;
    so is, with a ``roster``, each submission by a student not in it (still graded).
    """
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise GradegenError(f"--{name}: expected a number ≥ 0, got {value:g}")
    if not math.isfinite(ecf_credit) or not 0 <= ecf_credit <= 1:
        raise GradegenError(f"--ecf-credit: expected a number between 0 and 1, got {ecf_credit:g}")
    override = Rule(None, rtol or 0.0, atol or 0.0) if rtol is not None or atol is not None else None
    resolved = _resolve_key(key)
    table = submissions if isinstance(submissions, Submissions) else read_submissions(submissions)
    errors = list(table.errors)
    n = len(table)
    if table.aliases:
        table.resolve_aliases(lambda s: has_key(resolved, s))
    batches, missing = key_groups(resolved, table.key_ids())
    for i in missing:
        errors.append(FileError(table.sources[i], _no_key(table, i)))
    if roster is not None:
        enrolled, keyless = set(roster.ids), set(missing)
        errors.extend(
            FileError(table.sources[i], f"student {table.students[i]!r} is not in the roster "
                      f"{roster.source}; graded, but left out of the LMS gradebooks")
            for i in range(n)
            if table.students[i] not in enrolled and i not in keyless
        )  # fmt: skip

    groups: list[GroupResult] = []
    group_of = np.full(n, -1, dtype=np.intp)
    row_of = np.full(n, -1, dtype=np.intp)
    student_errors: dict[int, list[str]] = {}
    for g, batch in enumerate(batches):
        asked_ids = batch.keys.asked
        asked = set(asked_ids)
        index = batch.rows
        rows = index.tolist()
        # Unknown ids: once per CSV file, else in the student's own errors.
        for qid, column in table.columns.items():
            if qid in asked:
                continue
            hits = [i for i in rows if column[i] is not None and column[i] != ""]
            hint = _hint(qid, asked_ids)
            for source in dict.fromkeys(table.sources[i] for i in hits if table.from_csv[i]):
                record = FileError(source, f"unknown quantity id {qid!r}{hint} (column ignored)")
                if record not in errors:
                    errors.append(record)
            for i in hits:
                if not table.from_csv[i]:
                    student_errors.setdefault(i, []).append(f"unknown quantity id {qid!r}{hint} (ignored)")
        everyone = len(rows) == n  # then the rows are 0…n−1 in order: use the columns as they are
        cells = {
            q: (
                (table.columns[q] if everyone else [table.columns[q][i] for i in rows])
                if q in table.columns
                else [None] * len(rows)
            )
            for q in asked_ids
        }
        groups.append(grade_group(batch.keys, batch.key_index, cells, override, ecf_credit))
        group_of[index] = g
        row_of[index] = np.arange(len(rows))

    graded = np.flatnonzero(group_of >= 0)
    position = {int(i): p for p, i in enumerate(graded.tolist())} if graded.size < n else None
    problems = {i: list(e) for i, e in table.row_errors.items()}
    for i, extra in student_errors.items():
        problems.setdefault(i, []).extend(extra)
    if position is not None:
        problems = {position[i]: e for i, e in problems.items() if i in position}
    everyone = graded.size == n
    return GradingResults(
        groups=tuple(groups),
        ids=tuple(table.students) if everyone else tuple(table.students[i] for i in graded.tolist()),
        sources=tuple(table.sources) if everyone else tuple(table.sources[i] for i in graded.tolist()),
        group_of=group_of[graded],
        row_of=row_of[graded],
        student_errors={i: tuple(e) for i, e in sorted(problems.items()) if e},
        errors=tuple(errors),
        ecf_credit=ecf_credit,
        title=_title(resolved),
        roster=roster,
    )


def _no_key(table: Submissions, i: int) -> str:
    variant = table.variants.get(i)
    if variant is not None:
        return f"no key for variant {variant!r} (answered by {table.students[i]!r}); not graded"
    return f"no key for student {table.students[i]!r}; not graded"


def _title(key: Key | KeySet | ClassKeys) -> str:
    """The assignment's title: its spec's (the first student's, for version-1 per-student keys)."""
    if isinstance(key, KeySet):
        return next((k.spec.title for k in key.keys.values()), "")
    return key.spec.title


def _hint(qid: str, ids: Sequence[str]) -> str:
    close = difflib.get_close_matches(qid, ids, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def accepted_interval(keys: KeyColumns, q: str, rule: Rule) -> tuple[Array, Array, Array, Array]:
    """The interval of answers accepted for ``q`` under ``rule``, per key: in comparison space
    (an update's step) and as values of ``q`` itself (what an LMS's own margin must span)."""
    node, exact = keys.graph[q], keys.exact
    e_s = in_space(keys.graph, q, keys.expected_exact[q], exact.arrays)
    h_s = in_space(keys.graph, q, keys.expected_hand[q], exact.arrays)
    lo_s, hi_s = accepted(e_s, h_s, rule.half_width)
    if node.kind is Kind.UPDATE and node.param:
        w = exact[node.param]
        return lo_s, hi_s, w - hi_s, w - lo_s
    return lo_s, hi_s, lo_s, hi_s


def grade_group(
    keys: KeyColumns | Sequence[Key],
    key_index: NDArray[np.intp],
    cells: Mapping[str, Sequence[Any]],
    override: Rule | None = None,
    ecf_credit: float = DEFAULT_ECF_CREDIT,
) -> GroupResult:
    """Grade rows against keys that share one structure; ``key_index[row]`` picks each row's key.

    ``keys`` are columns over the keys (:class:`KeyColumns`, evaluated exactly, by hand and in
    every mistake variant once over the batch), or :class:`Key` objects of one structure; each
    quantity is compared for all rows at once.
    """
    columns_k = keys if isinstance(keys, KeyColumns) else key_columns(keys)
    graph, exact, hand, asked = columns_k.graph, columns_k.exact, columns_k.hand, columns_k.asked
    kx = key_index
    n = len(kx)

    rule = {q: override or Rule(columns_k.tolerance[q]) for q in asked}
    parsed = {q: parse_column(cells[q]) for q in asked}

    # The student's own answers over the key's values: the basis of follow-through. Only what the
    # asked quantities are computed from (a column per node of a large network would take gigabytes).
    overlay: dict[str, Array] = {}
    for p in dict.fromkeys(p for q in asked for p in graph[q].parents):
        column = exact[p][kx]
        if p in parsed:
            values, status, _ = parsed[p]
            column = np.where(status == 0, values, column)
        overlay[p] = column
    recomputed = graph.recompute(overlay)

    correct_of: dict[str, NDArray[np.bool_]] = {}
    undiagnosed: dict[str, tuple[NDArray[np.intp], Array, NDArray[np.int8]]] = {}
    columns: dict[str, _Column] = {}
    score = np.zeros(n)
    total = np.zeros(n)
    with np.errstate(invalid="ignore", over="ignore"):
        for node in graph.nodes:
            q = node.id
            if q not in parsed:
                continue
            values, status, raws = parsed[q]
            ok = status == 0
            r = rule[q]
            e_key = columns_k.expected_exact[q]
            h_key = columns_k.expected_hand[q]
            lo_s, hi_s, lo_k, hi_k = accepted_interval(columns_k, q, r)
            xs = exact[node.param][kx] - values if node.kind is Kind.UPDATE and node.param else values
            correct = ok & (xs >= lo_s[kx]) & (xs <= hi_s[kx])
            correct_of[q] = correct

            # follow-through: from the student's own (wrong, non-zero) answers for direct parents
            follow = np.full(n, np.nan)
            ft = np.zeros(n, dtype=bool)
            used = [p for p in node.parents if p in parsed]
            if used and q in recomputed:
                upstream_wrong = np.zeros(n, dtype=bool)
                zero = np.zeros(n, dtype=bool)
                for p in used:
                    wrong = (parsed[p][1] == 0) & ~correct_of[p]
                    upstream_wrong |= wrong
                    zero |= wrong & (parsed[p][0] == 0)
                candidates = ok & ~correct & upstream_wrong & ~zero
                if candidates.any():
                    follow = np.where(upstream_wrong, recomputed[q], np.nan)
                    rec_s = (
                        (exact[node.param][kx] - follow)
                        if node.kind is Kind.UPDATE and node.param
                        else follow
                    )
                    ft = candidates & np.isfinite(rec_s) & _match(xs, rec_s, r)

            # what is still wrong is diagnosed below, once every column's verdicts are known
            diagnosis = np.full(n, -1, dtype=np.int8)
            wrong_rows = np.flatnonzero(ok & ~correct & ~ft)
            if wrong_rows.size:
                undiagnosed[q] = (wrong_rows, xs[wrong_rows], diagnosis)

            verdict = np.full(n, VERDICTS.index(Verdict.INCORRECT), dtype=np.int8)
            verdict[status == 1] = VERDICTS.index(Verdict.MISSING)
            verdict[status == 2] = VERDICTS.index(Verdict.UNPARSEABLE)
            verdict[ft] = VERDICTS.index(Verdict.FOLLOW_THROUGH)
            verdict[correct] = VERDICTS.index(Verdict.CORRECT)
            pts_k = columns_k.points[q]
            max_points = pts_k[kx]
            points = np.where(correct, max_points, np.where(ft, ecf_credit * max_points, 0.0))
            score += points
            total += max_points
            columns[q] = _Column(
                raw=raws,
                value=values,
                exact_k=e_key,
                hand_k=h_key,
                lo_k=lo_k,
                hi_k=hi_k,
                verdict=verdict,
                diagnosis=diagnosis,
                points=points,
                max_points=float(pts_k[0]),
                follow=follow,
            )
    _diagnose(columns_k, kx, undiagnosed, correct_of, rule)
    return GroupResult(
        graph=graph,
        asked=tuple(asked),
        key_index=kx,
        hand=hand,
        rule=rule,
        columns={q: columns[q] for q in asked},
        score=score,
        max=total,
    )


_DIAGNOSIS_KEYS = 8192
"""Mistake references are worked out for this many keys at a time. There are some 1,500 reference
columns on the handout network with everything asked: over a class of 100,000 per-student keys
at once they would take 1.2 GB."""


_PARALLEL_FROM = 3 * _DIAGNOSIS_KEYS
"""From this many keys (per-student keys of a large class) a second process works out the
mistake references of half of them while this one does the other half (two cores); below, the
fork costs more than it saves, and one key (however many students) never needs it."""


def _diagnose(
    keys: KeyColumns,
    kx: NDArray[np.intp],
    wrong: Mapping[str, tuple[NDArray[np.intp], Array, NDArray[np.int8]]],
    correct_of: Mapping[str, NDArray[np.bool_]],
    rule: Mapping[str, Rule],
) -> None:
    """Fill each column's diagnosis codes for its wrong rows (given with their answers in
    comparison space): the first mistake, in precedence order, whose value the answer matches."""
    if not wrong:
        return
    batch = len(keys)
    parts = [slice(start, min(start + _DIAGNOSIS_KEYS, batch)) for start in range(0, batch, _DIAGNOSIS_KEYS)]
    if batch < _PARALLEL_FROM or len(parts) < 2 or not hasattr(os, "fork"):
        for part in parts:
            _diagnose_part(keys, kx, part, wrong, correct_of, rule)
        return
    # The second process writes its codes where this one reads them after it ends: into memory
    # both share (mapped before the fork), a column of codes per asked quantity.
    split = parts[len(parts) // 2].start
    n = kx.size
    shared = mmap.mmap(-1, n * len(wrong))
    codes = np.frombuffer(shared, dtype=np.int8).reshape(len(wrong), n)
    theirs = {q: (rows, xs, codes[i]) for i, (q, (rows, xs, _)) in enumerate(wrong.items())}

    def second_half() -> None:
        for part in parts[len(parts) // 2 :]:
            _diagnose_part(keys, kx, part, theirs, correct_of, rule)

    with in_second_process(second_half, "diagnosing mistakes"):
        for part in parts[: len(parts) // 2]:
            _diagnose_part(keys, kx, part, wrong, correct_of, rule)
    for q, (rows, _, diagnosis) in wrong.items():
        later = rows[kx[rows] >= split]
        diagnosis[later] = theirs[q][2][later]


def _diagnose_part(
    keys: KeyColumns,
    kx: NDArray[np.intp],
    part: slice,
    wrong: Mapping[str, tuple[NDArray[np.intp], Array, NDArray[np.int8]]],
    correct_of: Mapping[str, NDArray[np.bool_]],
    rule: Mapping[str, Rule],
) -> None:
    """The diagnosis codes of the wrong rows whose keys are in ``part``."""
    whole = part.stop - part.start == len(keys)
    refs = references(keys.graph, keys.spec, _part(keys.exact, part), _part(keys.hand, part), keys.asked)
    for q, (rows, xs, diagnosis) in wrong.items():
        k_w = kx[rows]
        if not whole:
            mine = (k_w >= part.start) & (k_w < part.stop)
            rows, xs, k_w = rows[mine], xs[mine], k_w[mine]
            if not rows.size:
                continue
            k_w = k_w - part.start
        diagnosis[rows] = _first_matches(q, refs.get(q, []), rows, xs, k_w, correct_of, rule[q])


_REFERENCES_AT_ONCE = 8
"""Mistake references tried together, as one 2-D comparison, before the rows they explain drop out."""


def _first_matches(
    q: str,
    refs: Sequence[tuple[Mistake, Array, tuple[str, ...]]],
    rows: NDArray[np.intp],
    xs: Array,
    k_w: NDArray[np.intp],
    correct_of: Mapping[str, NDArray[np.bool_]],
    rule: Rule,
) -> NDArray[np.int8]:
    """Each wrong row's diagnosis code: the first reference (in precedence order) that is usable
    for its key (finite, not 0) and that its answer ``xs`` matches under ``rule``, unless the
    mistake swapped a quantity the student answered right (other than ``q``); −1 for none.

    The references are compared a few at a time over the rows still unexplained, each as a
    column per key picked for the rows (``k_w``): the same comparisons as one reference at a time."""
    found = np.full(rows.size, -1, dtype=np.int8)
    left = np.arange(rows.size)  # rows still unexplained
    blocked: dict[tuple[str, ...], NDArray[np.bool_]] = {}  # by swapped ids: rows answering one right
    with np.errstate(invalid="ignore", over="ignore"):
        for at in range(0, len(refs), _REFERENCES_AT_ONCE):
            if not left.size:
                break
            some = refs[at : at + _REFERENCES_AT_ONCE]
            keys = k_w[left]
            per_key = some[0][1].size < keys.size  # fewer keys than rows: work per key, then pick
            ref = np.stack([r if per_key else r[keys] for _, r, _ in some])  # (references, keys or rows)
            usable = np.isfinite(ref) & (ref != 0)
            width = rule.half_width(ref)
            if per_key and ref.shape[1] > 1:  # (one key: its column is every row's)
                ref, usable, width = ref[:, keys], usable[:, keys], width[:, keys]
            hit = usable & (np.abs(xs[left] - ref) <= width)
            for i, (_, _, swapped) in enumerate(some):
                upstream = tuple(s for s in swapped if s != q and s in correct_of)
                if upstream:
                    if upstream not in blocked:
                        blocked[upstream] = np.logical_or.reduce([correct_of[s][rows] for s in upstream])
                    hit[i] &= ~blocked[upstream][left]
            explained = hit.any(axis=0)
            codes = np.array([MISTAKES.index(code) for code, _, _ in some], dtype=np.int8)
            found[left[explained]] = codes[hit.argmax(axis=0)[explained]]
            left = left[~explained]
    return found


def _part(values: Values, part: slice) -> Values:
    """Some keys' values out of a batch (views, not copies)."""
    places = None if values.places is None else {k: v[part] for k, v in values.places.items()}
    return Values(
        values.graph, {k: v[part] for k, v in values.arrays.items()}, places, part.stop - part.start
    )


def explain(code: Mistake | str) -> str:
    """The one-sentence explanation of a diagnosis code."""
    return EXPLANATIONS[Mistake(code)]
