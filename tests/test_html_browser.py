"""The HTML pages in a real browser (headless Chromium driven by selenium): they load from file
URLs cleanly, render their math as MathML, fit 800 px, and their answer form reads answers as the
grader does, saves them for ``gradegen grade`` and, on practice pages, judges them as it would.

One browser serves the whole module. Screenshots of every page are written to
``<pytest tmp folder>/html-pages/screenshots/`` (see the README, "Looking at the HTML pages").
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from answer_forms import FORMS
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from typer.testing import CliRunner

from gradegen.cli import app
from gradegen.core.spec import preset
from gradegen.grading.parse import Status, parse_answer

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WIDTH = 800
MATHML = "http://www.w3.org/1998/Math/MathML"


def _generate(args: list[str]) -> None:
    result = CliRunner().invoke(app, ["generate", *args, "--quiet"])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, deep_softmax_file: Path) -> Path:
    """The pages of the built-in network, of a two-hidden-layer softmax network and of a class."""
    root = tmp_path_factory.mktemp("html-pages")
    _generate(["--out", str(root / "handout"), "--html", "--practice"])
    _generate([str(deep_softmax_file), "--out", str(root / "deep"), "--html", "--practice"])
    roster = root / "roster.csv"
    roster.write_text("id,name\nana,Ana Lima\nbo,Bo <Chen>\n", "utf-8")
    _generate(["--roster", str(roster), "--seed", "7", "--out", str(root / "class"), "--html"])
    return root


@pytest.fixture(scope="module")
def deep_softmax_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from conftest import deep_softmax_data

    path = tmp_path_factory.mktemp("spec") / "deep.json"
    path.write_text(json.dumps(deep_softmax_data()), "utf-8")
    return path


@pytest.fixture(scope="module")
def downloads(site: Path) -> Path:
    folder = site / "downloads"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def browser(site: Path, downloads: Path) -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the module, with a fresh profile, its console log kept and
    downloads saved into ``downloads``."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        f"--user-data-dir={site / 'profile'}", f"--window-size={WIDTH},1000",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()


def _pages(site: Path) -> list[Path]:
    docs = ("worksheet", "solution", "key", "practice")
    pages = [
        site / net / f"{doc}.html"
        for net in ("handout", "deep")
        for doc in docs
        if (net, doc) != ("deep", "key")
    ]
    return [*pages, site / "class" / "ana" / "worksheet.html", site / "class" / "keys" / "bo.html"]


def _open(driver: webdriver.Chrome, page: Path) -> None:
    driver.get_log("browser")  # what earlier pages logged
    driver.set_window_size(WIDTH, 1000)
    driver.get(page.as_uri())


def test_every_page_loads_cleanly_with_mathml_and_fits_800_pixels(
    browser: webdriver.Chrome, site: Path
) -> None:
    """Each page (built-in network, two hidden layers with softmax, a class's pages) loads from a
    file URL with nothing in the console and no request at all, shows no raw LaTeX, has its
    formulas as rendered MathML and needs no horizontal scrolling at 800 px; a screenshot of each
    is saved."""
    shots = site / "screenshots"
    shots.mkdir()
    for page in _pages(site):
        _open(browser, page)
        where = page.relative_to(site).as_posix()
        assert browser.get_log("browser") == [], where
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0, where
        text = browser.find_element(By.TAG_NAME, "body").text
        assert "$" not in text and "\\frac" not in text and "\\" not in text, where
        maths = browser.execute_script(
            "return Array.from(document.querySelectorAll('math')).map("
            "m => [m.namespaceURI, m.getBoundingClientRect().width, m.getBoundingClientRect().height])"
        )
        assert len(maths) > 3, where
        for namespace, width, height in maths:
            assert namespace == MATHML and width > 0 and height > 0, where
        # every formula the page has is MathML: no TeX command and no bare sub/superscript outside one
        outside = browser.execute_script(
            "const t = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT); let s = '';"
            "while (t.nextNode()) { const n = t.currentNode;"
            " if (!n.parentElement.closest('math, script, style, svg')) s += n.textContent; } return s;"
        )
        assert "_{" not in outside and "^{" not in outside, where
        scroll = browser.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll[0] <= scroll[1], (where, scroll)
        height = browser.execute_script("return document.documentElement.scrollHeight")
        browser.set_window_size(WIDTH, min(int(height) + 140, 6000))  # the top of a long page
        browser.save_screenshot(str(shots / (where.replace("/", "-").removesuffix(".html") + ".png")))
    assert len(list(shots.glob("*.png"))) == len(_pages(site))


def test_the_page_reads_every_form_of_the_table_as_the_grader_does(
    browser: webdriver.Chrome, site: Path
) -> None:
    """One table of forms drives both readers: the page's checker and grading/parse.py give the
    hand-written value (or refuse) for every entry."""
    _open(browser, site / "handout" / "worksheet.html")
    for text, expected in FORMS:
        parsed = parse_answer(text)
        seen = browser.execute_script("return window.gradegenReadNumber(arguments[0])", text)
        if expected is None:
            assert parsed.status is Status.UNPARSEABLE and seen is None, text
        else:
            assert parsed.value == pytest.approx(expected, rel=1e-12), text
            assert seen == pytest.approx(expected, rel=1e-12) and seen == parsed.value, text


def test_typed_entries_are_accepted_or_flagged_as_the_grader_would(
    browser: webdriver.Chrome, site: Path
) -> None:
    """ "0,0822", "8.22e-2" and "−0.0822" are accepted and "abc" flagged with a message, as the
    grader reads (or cannot read) them."""
    _open(browser, site / "handout" / "worksheet.html")
    box = browser.find_element(By.ID, "q-dL_dw5")
    for text, verdict in (
        ("0,0822", "read"),
        ("8.22e-2", "read"),
        ("−0.0822", "read"),
        ("abc", "unreadable"),
    ):
        box.clear()
        box.send_keys(text)
        assert box.get_attribute("data-verdict") == verdict, text
        assert (parse_answer(text).status is Status.OK) == (verdict == "read"), text
    assert box.get_attribute("aria-invalid") == "true"
    assert "Not a number the grader can read" in browser.find_element(By.ID, "s-dL_dw5").text


def _hand_texts(key: dict[str, Any]) -> dict[str, str]:
    """Each asked value as a student writes it: the hand value to its places."""
    return {q: "%.*f" % (v["places"], v["hand"]) for q, v in key["values"].items()}  # noqa: UP031


def _fill(driver: webdriver.Chrome, answers: dict[str, str]) -> None:
    """Type every answer as a paste does (one input event each; typing key by key is tested above)."""
    verdicts = driver.execute_script(
        "return Object.entries(arguments[0]).map(([id, text]) => {"
        " const box = document.getElementById('q-' + id); box.focus(); box.value = text;"
        " box.dispatchEvent(new Event('input', {bubbles: true})); return [id, box.dataset.verdict]; })",
        answers,
    )
    assert sorted(verdicts) == sorted([qid, "read"] for qid in answers)


def _downloaded(folder: Path, name: str) -> Path:
    path = folder / name
    for _ in range(100):
        if path.is_file() and path.stat().st_size:
            return path
        time.sleep(0.05)
    raise AssertionError(f"{name} was not downloaded: {sorted(p.name for p in folder.iterdir())}")


def _percent(tmp_path: Path, key: Path, answers: Path) -> float:
    out = tmp_path / "grades"
    result = CliRunner().invoke(app, ["grade", str(key), str(answers), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    data = json.loads((out / "results.json").read_text("utf-8"))
    assert data["errors"] == [], data["errors"]
    (student,) = data["students"]
    return 100.0 * float(student["score"]) / float(student["max"])


def test_the_key_s_hand_values_downloaded_from_the_worksheet_grade_100_percent(
    browser: webdriver.Chrome, site: Path, downloads: Path, tmp_path: Path
) -> None:
    """Filled with the key's hand values, the shared worksheet asks for the student id, saves
    answers-<id>.json, and ``gradegen grade`` gives that file 100%."""
    _open(browser, site / "handout" / "worksheet.html")
    key = json.loads((site / "handout" / "key.json").read_text("utf-8"))
    browser.find_element(By.ID, "download").click()
    assert "student id" in browser.find_element(By.ID, "download-status").text  # asked for first
    browser.find_element(By.ID, "student-id").send_keys("zoé 1")
    _fill(browser, _hand_texts(key))
    browser.find_element(By.ID, "download").click()
    saved = _downloaded(downloads, "answers-zoé_1.json")
    assert json.loads(saved.read_text("utf-8"))["student"] == "zoé 1"
    shutil.move(saved, tmp_path / saved.name)
    assert _percent(tmp_path, site / "handout" / "key.json", tmp_path / saved.name) == 100.0


def test_a_student_s_own_worksheet_downloads_under_their_id_and_grades_100_percent(
    browser: webdriver.Chrome, site: Path, downloads: Path, tmp_path: Path
) -> None:
    """A class worksheet has the student's id built in (no id to type) and their own questions:
    their key's hand values, downloaded, grade 100% against the class's keys.json."""
    from gradegen.core.classkeys import student_key

    _open(browser, site / "class" / "ana" / "worksheet.html")
    assert browser.find_elements(By.ID, "student-id") == []
    key = json.loads(student_key(site / "class" / "keys.json", "ana").to_json())
    _fill(browser, _hand_texts(key))
    browser.find_element(By.ID, "download").click()
    saved = _downloaded(downloads, "answers-ana.json")
    shutil.move(saved, tmp_path / saved.name)
    assert _percent(tmp_path, site / "class" / "keys.json", tmp_path / saved.name) == 100.0


def test_answers_are_kept_in_the_browser_across_a_reload(browser: webdriver.Chrome, site: Path) -> None:
    """What is typed is kept (localStorage, per assignment and student) and comes back, checked,
    when the page is opened again; another student's page does not see it."""
    _open(browser, site / "class" / "ana" / "worksheet.html")
    box = browser.find_element(By.ID, "q-z_h1")
    box.clear()
    box.send_keys("0.4")
    browser.refresh()
    box = browser.find_element(By.ID, "q-z_h1")
    assert box.get_attribute("value") == "0.4" and box.get_attribute("data-verdict") == "read"
    _open(browser, site / "class" / "bo" / "worksheet.html")
    assert browser.find_element(By.ID, "q-z_h1").get_attribute("value") == ""


def test_the_form_works_from_the_keyboard(browser: webdriver.Chrome, site: Path) -> None:
    """Tab moves from the id field through the questions in order, each input named by its label."""
    _open(browser, site / "handout" / "worksheet.html")
    browser.find_element(By.ID, "student-id").click()
    ids = [e.get_attribute("data-id") for e in browser.find_elements(By.CSS_SELECTOR, "input[data-id]")]
    for qid in ids[:4]:
        browser.switch_to.active_element.send_keys(Keys.TAB)
        assert browser.switch_to.active_element.get_attribute("data-id") == qid
    labelled = browser.execute_script(
        "return Array.from(document.querySelectorAll('input')).every(i => i.labels.length === 1)"
    )
    assert labelled


def test_a_practice_page_marks_a_right_answer_right_and_a_flipped_sign_a_sign_error(
    browser: webdriver.Chrome, site: Path
) -> None:
    """On the practice page the key's hand value is right, the same value negated is diagnosed as
    a sign error (as the grader diagnoses it), and a step η·∂L/∂w5 (the handout's η is tiny, so the
    steps are asked) is right as the key has it."""
    _open(browser, site / "handout" / "practice.html")
    assert "practice" in browser.find_element(By.CLASS_NAME, "note").text.lower()
    key = json.loads((site / "handout" / "key.json").read_text("utf-8"))
    hand = _hand_texts(key)
    box = browser.find_element(By.ID, "q-dL_dw5")
    box.send_keys(hand["dL_dw5"])
    assert box.get_attribute("data-verdict") == "correct"
    box.clear()
    box.send_keys("−" + hand["dL_dw5"])
    assert box.get_attribute("data-verdict") == "wrong"
    assert box.get_attribute("data-mistake") == "sign_error"
    assert "sign is wrong" in browser.find_element(By.ID, "s-dL_dw5").text
    update = browser.find_element(By.ID, "q-step_w5")
    update.send_keys(hand["step_w5"])
    assert update.get_attribute("data-verdict") == "correct"


def _luminance(rgb: list[float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_text_contrast_passes_wcag_aa(browser: webdriver.Chrome, site: Path) -> None:
    """Every text colour the worksheet uses, messages and button included, has a contrast of at
    least 4.5:1 against its background (WCAG 2.1 AA's formula)."""
    _open(browser, site / "handout" / "practice.html")
    for qid, text in (("z_h1", "abc"), ("a_h1", "0.1"), ("z_h2", "0.3925")):
        browser.find_element(By.ID, f"q-{qid}").send_keys(text)
    pairs = browser.execute_script(
        "const rgb = s => s.match(/[\\d.]+/g).map(Number);"
        "const bg = e => { while (e) { const c = getComputedStyle(e).backgroundColor;"
        " if (rgb(c)[3] !== 0 && !c.startsWith('rgba(0, 0, 0, 0')) return rgb(c); e = e.parentElement; }"
        " return [255, 255, 255]; };"
        "const texts = 'p, li, label, h1, h2, h3, td, th, .status, button, strong';"
        "return Array.from(document.querySelectorAll(texts)).filter(e => e.textContent.trim())"
        ".map(e => [e.className || e.tagName, rgb(getComputedStyle(e).color), bg(e)]);"
    )
    assert len(pairs) > 20
    for name, fg, bg in pairs:
        lighter, darker = sorted((_luminance(fg), _luminance(bg)), reverse=True)
        assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (name, fg, bg)


def test_the_spec_of_the_pages_is_the_built_in_network() -> None:
    """The pages tested above are the handout's: its title is what the page shows."""
    assert preset("handout").title == "Backpropagation worked example"
