"""Feedback pages in HTML: the Markdown pages (:mod:`gradegen.reports.feedback`) as self-contained
web pages, so the wording lives in one place and both formats say the same.

Only the Markdown those pages are written in is read: headings, paragraphs, ``-`` lists,
``**bold**``, ```code``` and backslash escapes. Everything else is text, escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from gradegen.documents.environment import environment
from gradegen.grading.results import GradingResults
from gradegen.reports.feedback import feedback_markdown
from gradegen.reports.feedback_pages import iter_feedback

_INLINE = re.compile(r"`([^`]*)`|\*\*((?:\\.|[^*\\])*)\*\*|\\(.)|([^`*\\]+|[`*\\])", re.DOTALL)
_HEADING = re.compile(r"(#{1,6}) (.*)")


def _inline(text: str) -> str:
    out: list[str] = []
    for code, bold, escaped, plain in _INLINE.findall(text):
        if code:
            out.append(f"<code>{html.escape(code)}</code>")
        elif bold:
            out.append(f"<strong>{_inline(bold)}</strong>")
        else:
            out.append(html.escape(escaped or plain))
    return "".join(out)


def markdown_html(markdown: str) -> tuple[str, str]:
    """A feedback page's title (as text) and its body as HTML."""
    title = ""
    blocks: list[str] = []
    for block in markdown.strip("\n").split("\n\n"):
        lines = block.split("\n")
        heading = _HEADING.fullmatch(lines[0])
        if heading and len(lines) == 1:
            level = len(heading.group(1))
            if level == 1 and not title:
                title = heading.group(2)
            blocks.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline(line[2:])}</li>\n" for line in lines)
            blocks.append(f"<ul>\n{items}</ul>")
        else:
            blocks.append(f"<p>{_inline(' '.join(lines))}</p>")
    return _unescaped(title), "\n".join(blocks)


def _unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def page(markdown: str) -> str:
    """One feedback page as HTML, from its Markdown."""
    title, body = markdown_html(markdown)
    return environment().get_template("feedback.html.j2").render(title=html.escape(title), body=body)


def feedback_html(results: GradingResults, index: int) -> str:
    """One student's feedback page (the reference)."""
    return page(feedback_markdown(results, index))


def iter_feedback_html(results: GradingResults) -> Iterator[bytes]:
    """Every student's feedback page as UTF-8, in order: the bytes of :func:`feedback_html`."""
    for markdown in iter_feedback(results):
        yield page(markdown.decode("utf-8")).encode("utf-8")
