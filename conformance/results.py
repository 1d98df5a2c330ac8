"""The results file: one JSON document per run, the input of the matrix and of CI gating.

Shape (``schema`` = ``streamspec.results/1``), documented in README "Results file"::

    {"schema", "adapter", "server", "base_url", "strict", "started", "duration_s",
     "versions": {package: version},
     "summary": {outcome: count},
     "cases": [{"id", "level", "source", "outcome", "duration_s", "cpu_s", "figures", "reason", "trace"}],
     "findings": [{"case", "summary"}]}

Outcomes: ``pass``, ``fail``, ``expected-fail`` (listed in the adapter's expectations),
``unexpected-pass`` (an expected failure that passed: the run fails until the expectation goes),
``intermittent`` (a known race of the framework, listed as such in its expectations: the same
verdict whichever way this run went; ``figures.this_run`` says which), ``unsupported`` (the adapter lacks a capability the case needs), ``error`` (the case could not be
judged, e.g. the server died). ``cpu_s`` is what the case cost in CPU seconds on each side of the socket
(``{"suite", "server"}``, ``conformance/cpu_use.py``; INFO, for the bench, never a verdict).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

SCHEMA = "streamspec.results/1"
OUTCOMES = ("pass", "fail", "expected-fail", "intermittent", "unexpected-pass", "unsupported", "error")


def write(path: Path, meta: dict, cases: list[dict]) -> None:
    summary = Counter(c["outcome"] for c in cases)
    findings = [{"case": c["id"], "summary": c["reason"]} for c in cases
                if c["outcome"] in ("fail", "expected-fail") and c.get("reason")]
    doc = {
        "schema": SCHEMA,
        **meta,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "summary": {k: summary.get(k, 0) for k in OUTCOMES},
        "cases": sorted(cases, key=lambda c: c["id"]),
        "findings": findings,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")


def load(path: Path) -> dict:
    doc = json.loads(Path(path).read_text())
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"{path} is not a {SCHEMA} file")
    return doc
