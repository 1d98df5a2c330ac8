"""Load pictures: each committed load results file becomes an SVG that parses, whose RSS line has one
point per sample and whose bars are the fast clients' recorded percentiles; the committed plots are what
``python -m conformance.load_plots`` renders from the committed results (regenerate, never edit)."""

import json
import xml.etree.ElementTree as ET

from conformance import load_plots

from .suite_runner import ROOT

LOAD = ROOT / "reports" / "load"
SVG = "{http://www.w3.org/2000/svg}"


def docs() -> dict:
    return {p.stem: json.loads(p.read_text()) for p in sorted(LOAD.glob("*.json"))}


def test_each_run_is_drawn_from_its_own_samples():
    found = docs()
    assert found, "no load results committed"
    for name, doc in found.items():
        root = ET.fromstring(load_plots.render_run(doc))
        lines = {el.get("class"): el.get("points").split() for el in root.iter(f"{SVG}polyline")}
        assert len(lines["rss"]) == len(doc["samples"]) == len(lines["active"]), name
        top = max(s["rss"] for s in doc["samples"]) / load_plots.MiB
        assert any(el.text == f"{top * 1.1:.3g}" for el in root.iter(f"{SVG}text")), name  # the axis fits the peak
        want = sum(isinstance(doc["figures"].get(f"fast_{ph}_p{p}_ms"), (int, float))
                   for ph in ("baseline", "mix") for p in (50, 95, 99))
        assert sum(1 for el in root.iter(f"{SVG}rect") if el.get("class") == "bar") == want, name


def test_committed_plots_are_current():
    for rel, text in load_plots.render(docs()).items():
        path = LOAD / rel
        assert path.exists() and path.read_text() == text, f"reports/load/{rel}: run python -m conformance.load_plots"
