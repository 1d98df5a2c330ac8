"""The HTML report, checked in a real headless Chromium: it loads from disk with no console error and no
request leaving the machine, has one cell per case per run of its results files, and a failing cell's
link opens the evidence with that case's requirement and observed failure. The committed
``reports/index.html`` is what the command renders from the committed results (regenerate, never edit)."""

import json
from pathlib import Path

import pytest

from conformance import html_report
from conformance.chromium import launched

from .suite_runner import ROOT

RESULTS = sorted((ROOT / "reports" / "results").glob("*.json"))


def test_committed_report_is_current():
    pages = html_report.render([json.loads(p.read_text()) for p in RESULTS])
    for rel, text in pages.items():
        committed = ROOT / "reports" / rel
        assert committed.exists() and committed.read_text() == text, (
            f"reports/{rel} is not what `python -m conformance.html_report` renders from reports/results/: regenerate it")
    assert (ROOT / "reports" / "index.png").exists(), "the README's screenshot (--screenshot) is missing"


@pytest.fixture
def browser():
    pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("Debian's Chromium is not installed (apt-get install chromium)")
    with launched("/usr/bin/chromium", ["--no-sandbox"]) as b:
        yield b


def test_report_in_a_browser(tmp_path, browser):
    docs = [json.loads(p.read_text()) for p in RESULTS]
    html_report.write(html_report.render(docs), tmp_path)
    page = browser.new_page()
    problems, outside = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto((tmp_path / "index.html").as_uri())
    assert page.title() == "streamspec matrix"
    rows = page.locator("#matrix tbody tr:not(.family)").count()
    assert rows >= max(len(d["cases"]) for d in docs)
    assert page.locator("#matrix td.cell").count() == rows * len(docs)  # every case × every run has a cell
    assert page.locator("#matrix td.cell:not(.not-run)").count() == sum(len(d["cases"]) for d in docs)
    failing = page.locator("#matrix td.expected-fail a, #matrix td.fail a").first
    href = failing.get_attribute("href")
    run, anchor = href.split("#")
    failing.click()
    page.wait_for_load_state()
    assert page.url.endswith(href)
    section = page.locator(f"section#{anchor}")
    assert section.count() == 1
    text = section.inner_text()
    case_id = section.locator("h2 code").inner_text()
    doc = next(d for d in docs if html_report.run_name(d, html_report.usual_python(docs)) == Path(run).stem)
    case = next(c for c in doc["cases"] if c["id"] == case_id)
    assert case["outcome"] in ("expected-fail", "fail") and "Requirement." in text
    assert case["reason"].splitlines()[0][:80] in text
    assert not problems, problems
    assert not outside, outside


def test_load_plots_page_in_a_browser(browser):
    """The load pictures open offline: every image of reports/load/plots/index.html loads, no console error."""
    page = browser.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.goto((ROOT / "reports" / "load" / "plots" / "index.html").as_uri())
    widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert widths and all(w > 0 for w in widths), widths
    assert len(widths) == len(list((ROOT / "reports" / "load").glob("*.json")))
    assert not problems, problems
