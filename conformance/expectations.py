"""Known, accepted failures of an adapter (WPT-style expectations).

A TOML file per adapter lists cases expected to fail, each with a reason and optionally the server it
applies to::

    [[expected]]
    case = "chunking.http10-no-chunked"
    server = "granian"          # omit: every server of this adapter
    reason = "granian 2.8 answers HTTP/1.0 with chunked coding (FINDINGS.md #3)"

The suite marks such a case as a strict expected failure: it passes the run when it fails, and fails
the run when it unexpectedly passes, so a stale expectation is noticed and removed. ``--ignore-expectations``
ignores the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Expectation:
    case: str
    reason: str
    server: str | None = None


def load(path: Path | None, server: str) -> dict[str, Expectation]:
    """Expectations that apply to ``server``, by case id."""
    if path is None or not path.exists():
        return {}
    data = tomllib.loads(path.read_text())
    out = {}
    for entry in data.get("expected", []):
        exp = Expectation(case=entry["case"], reason=entry["reason"], server=entry.get("server"))
        if exp.server in (None, server):
            out[exp.case] = exp
    return out
