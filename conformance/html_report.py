"""Render results files into an HTML report a person reads offline: ``reports/index.html``.

    python -m conformance.html_report                      # reports/results/*.json -> reports/
    python -m conformance.html_report A.json B.json --out DIR [--screenshot]

Rows are cases grouped by family (id, level, the clause it checks, linked where the source is an RFC,
WHATWG or the ASGI spec); columns are adapter × server × framework version, the same results files and
order as ``reports/MATRIX.md`` (``matrix_table.py``). A cell is coloured by outcome, shows the case's key
figure, and links to the run's evidence page (``evidence/<adapter>-<server>.html#<case>``): requirement,
what was observed, every figure, the wire trace and the server's output, as the results file recorded
them. No script, no network, no CDN: one stylesheet inline. ``--screenshot`` also writes
``index.png`` with Debian's Chromium (the README shows it).

The page is pure output of ``render`` (docs and the case catalogue in, {relative path: text} out), so
what the browser test checks is what the command writes.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path

from streamspec.launch import reports_dir

from . import catalogue, matrix_table
from .chromium import launched
from .key_figures import key_figure

TRACE_LIMIT = 6000  # characters of a trace or of server output kept on an evidence page

STYLE = """
body { font: 13px/1.4 system-ui, sans-serif; margin: 1em; color: #222; }
table { border-collapse: collapse; }
th, td { border: 1px solid #ccc; padding: 2px 4px; vertical-align: top; }
thead th { position: sticky; top: 0; background: #f4f4f4; font-weight: 600; }
th.col { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; vertical-align: bottom; }
tr.family th { text-align: left; background: #e8e8f0; }
td.cell { font-size: 11px; min-width: 5.5em; }
td.cell a { color: inherit; text-decoration: none; display: block; }
.pass { background: #d8f0d8; } .fail, .error, .unexpected-pass { background: #f4b4b4; font-weight: 600; }
.expected-fail { background: #f6e0a8; } .intermittent { background: #e6d0f0; }
.unsupported, .not-run { background: #eee; color: #777; }
.fig { display: block; color: #444; font-weight: normal; }
pre { white-space: pre-wrap; background: #f7f7f7; border: 1px solid #ddd; padding: 6px; max-width: 110em; }
section.case { border-top: 2px solid #bbb; margin-top: 1.5em; }
code { font-size: 12px; }
"""

OUTCOME_WORD = {"pass": "pass", "fail": "FAIL", "error": "ERROR", "unexpected-pass": "pass (unexpected)",
                "expected-fail": "fail (expected)", "intermittent": "intermittent", "unsupported": "unsupported"}


def clause_link(source: str) -> str | None:
    """A URL for the first clause a case's source names, or None."""
    m = re.search(r"RFC (\d{3,5})(?: §([\d.]+\d))?", source)
    if m:
        return f"https://www.rfc-editor.org/rfc/rfc{m.group(1)}" + (f"#section-{m.group(2)}" if m.group(2) else "")
    if "WHATWG" in source:
        return "https://html.spec.whatwg.org/multipage/server-sent-events.html"
    if "ASGI" in source:
        return "https://asgi.readthedocs.io/en/latest/specs/www.html"
    return None


def _py(doc: dict) -> str:
    return ".".join(((doc.get("versions") or {}).get("python") or "").split(".")[:2])


def run_name(doc: dict, usual_py: str = "") -> str:
    """The evidence page's file stem: ``<adapter>-<server>``, plus ``-py<X.Y>`` for a run whose server ran
    under another Python than most runs (``--python-run``), as the matrix names its results file."""
    name = f"{doc['adapter']}-{doc['server']}"
    if usual_py and _py(doc) and _py(doc) != usual_py:
        name += "-py" + _py(doc)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def usual_python(docs: list[dict]) -> str:
    found = [_py(d) for d in docs if _py(d)]
    return max(set(found), key=found.count) if found else ""


def column_title(doc: dict, usual_py: str = "") -> str:
    title = f"{doc['adapter']}/{doc['server']} {matrix_table.framework_version(doc)}".strip()
    return title + (f" py{_py(doc)}" if usual_py and _py(doc) and _py(doc) != usual_py else "")


def _anchor(case_id: str) -> str:
    return "case-" + case_id.replace(".", "-")


def render(docs: list[dict], cases: list[dict] | None = None) -> dict[str, str]:
    """{relative path: HTML}: ``index.html`` and one ``evidence/<run>.html`` per results document."""
    docs = matrix_table.load_docs(docs)
    known = {c["id"]: c for c in (cases if cases is not None else catalogue.cases())}
    ids = sorted({c["id"] for d in docs for c in d["cases"]} | set(known))
    by_run = [{c["id"]: c for c in d["cases"]} for d in docs]
    usual = usual_python(docs)
    names = [run_name(d, usual) for d in docs]
    titles = [column_title(d, usual) for d in docs]
    out = {}
    head = "".join(f'<th class="col" title="{html.escape(t)}">{html.escape(t)}</th>' for t in titles)
    rows, family = [], None
    for case_id in ids:
        fam = case_id.split(".")[0]
        if fam != family:
            family = fam
            rows.append(f'<tr class="family"><th colspan="{3 + len(docs)}">{html.escape(fam)}</th></tr>')
        info = known.get(case_id, {})
        level = info.get("level") or next((r[case_id]["level"] for r in by_run if case_id in r), "")
        source = info.get("source", "")
        link = clause_link(source)
        source_html = (f'<a href="{html.escape(link)}">{html.escape(source)}</a>' if link else html.escape(source))
        cells = []
        for run, name in zip(by_run, names):
            case = run.get(case_id)
            if case is None:
                cells.append('<td class="cell not-run">not run</td>')
                continue
            outcome = case["outcome"]
            fig = key_figure(case.get("figures") or {})
            cells.append(f'<td class="cell {outcome}"><a href="evidence/{name}.html#{_anchor(case_id)}">'
                         f'{html.escape(OUTCOME_WORD.get(outcome, outcome))}'
                         + (f'<span class="fig">{html.escape(fig)}</span>' if fig else "") + "</a></td>")
        rows.append(f'<tr><td><code>{html.escape(case_id)}</code></td><td>{html.escape(level)}</td>'
                    f'<td>{source_html}</td>{"".join(cells)}</tr>')
    summary = "".join(f"<li>{html.escape(t)}: "
                      + html.escape(", ".join(f"{v} {k}" for k, v in d.get("summary", {}).items() if v))
                      + f" ({html.escape(str(d.get('duration_s', '?')))} s, finished {html.escape(d.get('finished', '?'))})</li>"
                      for d, t in zip(docs, titles))
    out["index.html"] = _page("streamspec matrix", f"""
<h1>streamspec matrix</h1>
<p>{len(ids)} cases × {len(docs)} runs, rendered by <code>python -m conformance.html_report</code> from the
results files in <code>reports/results/</code> (the same data as <code>reports/MATRIX.md</code>). A cell is
what the case did in that run, with its key figure; it links to the evidence: the requirement, what was
observed, every figure, the wire trace and the server's output. "fail (expected)" is a failure recorded in
the adapter's expectations, with a finding in <code>reports/FINDINGS.md</code>.</p>
<table id="matrix"><thead><tr><th>case</th><th>level</th><th>clause</th>{head}</tr></thead>
<tbody>{"".join(rows)}</tbody></table>
<h2>Runs</h2><ul>{summary}</ul>""")
    for doc, run, name, title in zip(docs, by_run, names, titles):
        sections = []
        for case_id in sorted(run):
            case, info = run[case_id], known.get(case_id, {})
            figures = json.dumps(case.get("figures") or {}, indent=1, sort_keys=True)
            parts = [f'<section class="case" id="{_anchor(case_id)}"><h2><code>{html.escape(case_id)}</code> '
                     f'<span class="{case["outcome"]}">{html.escape(OUTCOME_WORD.get(case["outcome"], case["outcome"]))}'
                     f'</span></h2>',
                     f'<p><b>{html.escape(case.get("level", ""))}</b> · {html.escape(case.get("source", info.get("source", "")))}</p>',
                     f'<p><b>Requirement.</b> {html.escape(info.get("requirement", ""))}</p>']
            if case.get("reason"):
                parts.append(f'<p><b>Observed.</b></p><pre class="reason">{html.escape(case["reason"])}</pre>')
            parts.append(f"<p><b>Figures.</b></p><pre>{html.escape(figures)}</pre>")
            for label, key in (("Wire trace", "trace"), ("Server output during the case", "server_output")):
                if case.get(key):
                    text = case[key]
                    cut = f"\n[... {len(text) - TRACE_LIMIT} more characters in the results file]" if len(text) > TRACE_LIMIT else ""
                    parts.append(f"<p><b>{label}.</b></p><pre>{html.escape(text[:TRACE_LIMIT] + cut)}</pre>")
            sections.append("".join(parts) + "</section>")
        versions = ", ".join(f"{k} {v}" for k, v in (doc.get("versions") or {}).items())
        out[f"evidence/{name}.html"] = _page(f"streamspec: {title}", f"""
<p><a href="../index.html">← matrix</a></p>
<h1>{html.escape(title)}</h1>
<p>Versions: {html.escape(versions)}. Idiom: {html.escape(doc.get("idiom", ""))}</p>
{"".join(sections)}""")
    return out


def _page(title: str, body: str) -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<link rel="icon" href="data:,"><style>{STYLE}</style></head><body>{body}\n</body></html>\n')


def write(pages: dict[str, str], out: Path) -> None:
    for rel, text in pages.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def screenshot(index: Path, png: Path, chromium: str = "/usr/bin/chromium") -> None:
    """The top of the page, 1600×1000, as the README shows it."""
    with launched(chromium, ["--no-sandbox"]) as browser:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(index.resolve().as_uri())
        page.screenshot(path=str(png))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.html_report", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="results files (default: reports/results/*.json)")
    parser.add_argument("--out", default=str(reports_dir()), help="directory for index.html and evidence/ "
                        "(default: the checkout's reports/, or ./streamspec-results/ when installed)")
    parser.add_argument("--screenshot", action="store_true", help="also write index.png (needs Chromium)")
    args = parser.parse_args(argv)
    paths = args.files or sorted(str(p) for p in (reports_dir() / "results").glob("*.json"))
    if not paths:
        print("streamspec: no results files to render", file=sys.stderr)
        return 2
    docs = [json.loads(Path(p).read_text()) for p in paths]
    out = Path(args.out)
    write(render(docs), out)
    print(f"streamspec: {out / 'index.html'} ({len(docs)} runs)")
    if args.screenshot:
        screenshot(out / "index.html", out / "index.png")
        print(f"streamspec: {out / 'index.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
