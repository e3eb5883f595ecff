"""The registry of output formats: every file ``generate`` writes comes from one of these.

A format is one module (its class and, for documents, its templates ``templates/*.<suffix>.j2``)
and one line here; the renderer, the compiled documents and class runs iterate this tuple and
name no format. See :class:`~gradegen.documents.page.Format` for what a format says. A format
with an ``option`` (``html``, ``practice``) is written only when ``generate`` is asked for it;
``values`` (network-values.svg) when the spec's documents ask for the values diagram.
"""

from __future__ import annotations

from collections.abc import Iterable

from gradegen.core.options import Diagram
from gradegen.core.spec import Spec
from gradegen.documents.answerkey import LATEX_KEY, MARKDOWN_KEY
from gradegen.documents.html import HTML, HTML_KEY, HTML_SOLUTION, PRACTICE
from gradegen.documents.latex import LATEX
from gradegen.documents.markdown import MARKDOWN
from gradegen.documents.page import Format
from gradegen.documents.plain import ANSWER_SHEET, DIAGRAM, KEY, VALUES_DIAGRAM

FORMATS: tuple[Format, ...] = (
    MARKDOWN,
    LATEX,
    ANSWER_SHEET,
    KEY,
    MARKDOWN_KEY,
    LATEX_KEY,
    DIAGRAM,
    VALUES_DIAGRAM,
    HTML_SOLUTION,
    HTML,
    HTML_KEY,
    PRACTICE,
)
"""Every format, in the order their files are written."""


def option(fmt: Format) -> str | None:
    """The ``generate`` option that asks for a format's files (None: always written)."""
    return getattr(fmt, "option", None)


ALL_FILES = tuple(file for fmt in FORMATS for file in fmt.files)
"""Every file any format writes, in order."""

FILES = tuple(file for fmt in FORMATS if option(fmt) is None for file in fmt.files)
"""The files :func:`~gradegen.documents.render.render_documents` returns by default, in order."""

PUBLIC_FILES = tuple(file for fmt in FORMATS if not fmt.secret for file in fmt.files)
"""The files a student may see (each student's folder in a class run): all but the keys."""

PRINTED_KEYS = (*MARKDOWN_KEY.files, *LATEX_KEY.files)
"""The answer keys a TA prints (key.md, key.tex): in a class run, every student's in one file."""

SECRET_FILES = tuple(file for fmt in FORMATS if fmt.secret and option(fmt) for file in fmt.files)
"""Optional files that hold the answers (a class run writes them outside the students' folders)."""


def files_for(options: Iterable[str] = ()) -> tuple[str, ...]:
    """The default files and those of the formats ``options`` ask for, in order."""
    chosen = set(options)
    return tuple(file for fmt in FORMATS if option(fmt) in (None, *chosen) for file in fmt.files)


def spec_options(spec: Spec) -> tuple[str, ...]:
    """The optional formats the spec's own documents ask for: the values diagram's file."""
    return ("values",) if spec.documents.diagram is Diagram.VALUES else ()
