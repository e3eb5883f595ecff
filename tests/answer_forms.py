"""The one table of answer forms: how each text typed as an answer must be read, by the grader
(gradegen.grading.parse) and by the HTML answer form's checker alike. Values are written out by
hand; None means the text is not a number (the grader reports it unparseable, the page flags it)."""

from __future__ import annotations

FORMS: tuple[tuple[str, float | None], ...] = (
    ("0.0822", 0.0822),
    (".0822", 0.0822),
    ("0,0822", 0.0822),
    ("8.22e-2", 0.0822),
    ("8.22E-2", 0.0822),
    ("−0.0822", -0.0822),  # U+2212 minus sign
    ("–0.0822", -0.0822),  # en dash
    ("-0.0822", -0.0822),
    ("+0.0822", 0.0822),
    ("  0.0822  ", 0.0822),
    ("\u00a00.0822", 0.0822),
    ("0,5e-1", 0.05),
    ("8.22 × 10^-2", 0.0822),
    ("8.22 x 10^{-2}", 0.0822),
    ("8.22*10**-2", 0.0822),
    ("8.22 \\times 10^(-2)", 0.0822),
    ("8.22 · 10^-2", 0.0822),
    ("−8.22 × 10^-2", -0.0822),
    ("1/2", 0.5),
    ("-3/4", -0.75),
    ("12", 12.0),
    ("5.", 5.0),
    ("-.5", -0.5),
    ("1_000", 1000.0),
    ("1e5", 100000.0),
    ("abc", None),
    ("0.08 22", None),
    ("1,2,3", None),
    ("0.5.1", None),
    ("1,5.2", None),
    ("nan", None),
    ("inf", None),
    ("-infinity", None),
    ("1e400", None),
    ("1/0", None),
    ("0x10", None),
    ("1__0", None),
    ("½", None),
    ("8.22 × 10^-400", None),
    ("2 × 10^500", None),
    ("1" * 101, None),
)
