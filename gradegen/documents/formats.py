"""The registry of output formats: every file ``generate`` writes comes from one of these.

A format is one module (its class and, for documents, its templates ``templates/*.<suffix>.j2``)
and one line here; the renderer, the compiled documents and class runs iterate this tuple and
name no format. See :class:`~gradegen.documents.page.Format` for what a format says.
"""

from __future__ import annotations

from gradegen.documents.answerkey import LATEX_KEY, MARKDOWN_KEY
from gradegen.documents.latex import LATEX
from gradegen.documents.markdown import MARKDOWN
from gradegen.documents.page import Format
from gradegen.documents.plain import ANSWER_SHEET, DIAGRAM, KEY

FORMATS: tuple[Format, ...] = (MARKDOWN, LATEX, ANSWER_SHEET, KEY, MARKDOWN_KEY, LATEX_KEY, DIAGRAM)
"""Every format, in the order their files are written."""

FILES = tuple(file for fmt in FORMATS for file in fmt.files)
"""Every file :func:`~gradegen.documents.render.render_documents` returns, in order."""

PUBLIC_FILES = tuple(file for fmt in FORMATS if not fmt.secret for file in fmt.files)
"""The files a student may see (each student's folder in a class run): all but the keys."""

PRINTED_KEYS = (*MARKDOWN_KEY.files, *LATEX_KEY.files)
"""The answer keys a TA prints (key.md, key.tex): in a class run, every student's in one file."""
