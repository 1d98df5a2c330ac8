"""Known, accepted failures of an adapter (WPT-style expectations).

A TOML file per adapter lists cases expected to fail, each with a reason and optionally the server it
applies to::

    [[expected]]
    case = "chunking.http10-no-chunked"
    server = "granian"          # omit: every server of this adapter
    reason = "granian 2.8 answers HTTP/1.0 with chunked coding (FINDINGS.md #3)"

    [[expected]]
    case = "abort.idle.*"       # a glob: both framings of a framed case
    reason = "..."

    [[expected]]
    case = "abort.healthy-after-100.*"
    intermittent = true         # a race in the framework: fails in some runs, passes in others
    reason = "..."

The suite marks such a case as a strict expected failure: it passes the run when it fails, and fails
the run when it unexpectedly passes, so a stale expectation is noticed and removed. An ``intermittent``
expectation is a known race (WPT's ``[PASS, FAIL]``): the case's outcome is recorded as ``intermittent``
whichever way this run went (the run's own result is kept in its figures), so the verdict is the same
in every run and the matrix says what users will see. ``--ignore-expectations`` ignores the file.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Expectation:
    case: str  # a case id or a glob of case ids
    reason: str
    server: str | None = None
    intermittent: bool = False

    def matches(self, case_id: str) -> bool:
        return fnmatch.fnmatchcase(case_id, self.case)


class Expectations:
    """The expectations that apply to one server; ``for_case`` finds the one for a case id."""

    def __init__(self, entries: list[Expectation]) -> None:
        self.entries = entries

    def for_case(self, case_id: str) -> Expectation | None:
        return next((e for e in self.entries if e.matches(case_id)), None)

    def get(self, case_id: str, default=None) -> Expectation | None:
        return self.for_case(case_id) or default


def load(path: Path | None, server: str) -> Expectations:
    """Expectations that apply to ``server``."""
    if path is None or not path.exists():
        return Expectations([])
    data = tomllib.loads(path.read_text())
    out = []
    for entry in data.get("expected", []):
        exp = Expectation(case=entry["case"], reason=entry["reason"], server=entry.get("server"),
                          intermittent=bool(entry.get("intermittent", False)))
        if exp.server in (None, server):
            out.append(exp)
    return Expectations(out)
