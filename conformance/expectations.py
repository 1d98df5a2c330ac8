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

An expectation can depend on versions, as PEP 440 specifiers on installed distributions (checked with
``packaging``, against the interpreter that runs the server)::

    [[expected]]
    case = "chunking.http10-no-chunked"
    versions = ["granian>=2.8"]   # every requirement must hold; omit: any version
    reason = "..."

A file can include others (top level, before any entry): their entries apply after the file's own, under
the same rules. ``streamspec:NAME`` is a file shipped in the streamspec package, e.g. the findings of the
ASGI servers themselves (their request parsers), shared by every adapter served by
``streamspec.asgi_servers``; any other path is relative to the including file::

    include = ["streamspec:asgi_servers_expectations.toml"]

One whose versions do not hold is not applied, and the run says so (a line at its end, and
``expectations_not_applied`` in the results file), so an upgrade that fixed a bug, or one that an
expectation was never written for, is visible rather than silently judged by a stale entry.

The suite marks such a case as a strict expected failure: it passes the run when it fails, and fails
the run when it unexpectedly passes, so a stale expectation is noticed and removed. An ``intermittent``
expectation is a known race (WPT's ``[PASS, FAIL]``): the case's outcome is recorded as ``intermittent``
whichever way this run went (the run's own result is kept in its figures), so the verdict is the same
in every run and the matrix says what users will see. ``--ignore-expectations`` ignores the file.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version


@dataclass(frozen=True)
class Expectation:
    case: str  # a case id or a glob of case ids
    reason: str
    server: str | None = None
    intermittent: bool = False
    versions: tuple[str, ...] = ()  # PEP 508 requirements ("sanic<26"), all of which must hold

    def matches(self, case_id: str) -> bool:
        return fnmatch.fnmatchcase(case_id, self.case)

    def unmet(self, installed: dict[str, str]) -> str | None:
        """Why this expectation's versions do not hold for ``installed`` ({distribution: version}), or None."""
        for text in self.versions:
            req = Requirement(text)
            have = next((v for k, v in installed.items() if canonicalize_name(k) == canonicalize_name(req.name)), None)
            if have is None or have == "not installed":
                return f"{text}: {req.name} is not installed"
            try:
                ok = req.specifier.contains(Version(have), prereleases=True)
            except InvalidVersion:
                return f"{text}: {req.name} {have} is not a PEP 440 version"
            if not ok:
                return f"{text}: {req.name} {have} is installed"
        return None


class Expectations:
    """The expectations that apply to one server and its versions; ``for_case`` finds the one for a case
    id; ``not_applied`` lists the ones whose versions did not hold, with why."""

    def __init__(self, entries: list[Expectation], not_applied: list[tuple[Expectation, str]] | None = None) -> None:
        self.entries = entries
        self.not_applied = not_applied or []

    def for_case(self, case_id: str) -> Expectation | None:
        return next((e for e in self.entries if e.matches(case_id)), None)

    def get(self, case_id: str, default=None) -> Expectation | None:
        return self.for_case(case_id) or default


class ExpectationsError(ValueError):
    """An expectations file that cannot be read as written (a bad field, a bad version specifier)."""


def _included(path: Path, name: str) -> Path:
    """Where an ``include`` entry points: ``streamspec:NAME`` in the package, else relative to ``path``."""
    if name.startswith("streamspec:"):
        import streamspec

        return Path(streamspec.__file__).parent / name.partition(":")[2]
    return path.parent / name


def _entries(path: Path, seen: tuple[Path, ...] = ()) -> list[dict]:
    """Every ``[[expected]]`` table of ``path`` and, after them, of the files it includes (depth first)."""
    if path.resolve() in seen:
        raise ExpectationsError(f"{path}: includes itself (through {' -> '.join(map(str, seen))})")
    if not path.exists():
        raise ExpectationsError(f"{seen[-1] if seen else path}: included file {path} does not exist")
    data = tomllib.loads(path.read_text())
    entries = list(data.get("expected", []))
    for name in data.get("include", []):
        entries += _entries(_included(path, name), (*seen, path.resolve()))
    return entries


def load(path: Path | None, server: str, installed: dict[str, str] | None = None) -> Expectations:
    """Expectations that apply to ``server`` and, where an entry names versions, to ``installed``."""
    if path is None or not path.exists():
        return Expectations([])
    out, skipped = [], []
    for entry in _entries(path):
        versions = entry.get("versions", ())
        versions = (versions,) if isinstance(versions, str) else tuple(versions)
        for text in versions:
            try:
                Requirement(text)
            except InvalidRequirement as exc:
                raise ExpectationsError(f"{path}: case {entry.get('case')!r}: versions {text!r} is not a "
                                        f"requirement like 'sanic<26': {exc}") from None
        exp = Expectation(case=entry["case"], reason=entry["reason"], server=entry.get("server"),
                          intermittent=bool(entry.get("intermittent", False)), versions=versions)
        if exp.server not in (None, server):
            continue
        why = exp.unmet(installed or {}) if versions else None
        (skipped.append((exp, why)) if why else out.append(exp))
    return Expectations(out, skipped)


def named_distributions(path: Path | None) -> list[str]:
    """The distributions the file's ``versions`` name: what the run must look up before ``load``."""
    if path is None or not path.exists():
        return []
    names = set()
    for entry in _entries(path):
        versions = entry.get("versions", ())
        for text in (versions,) if isinstance(versions, str) else versions:
            try:
                names.add(Requirement(text).name)
            except InvalidRequirement:
                pass  # load() reports it
    return sorted(names)


_VERSIONS_SCRIPT = """
import json, sys
from importlib.metadata import PackageNotFoundError, version
out = {}
for name in sys.argv[1:]:
    try:
        out[name] = version(name)
    except PackageNotFoundError:
        out[name] = "not installed"
print(json.dumps(out))
"""


def installed_versions(names: list[str], python: str | None = None) -> dict[str, str]:
    """{name: version or "not installed"} as ``python`` (the server's interpreter under ``--python``; by
    default this one) sees them: expectations are about the framework that serves, not the suite's copy.
    One short subprocess, and only when an expectation names versions."""
    if not names:
        return {}
    proc = subprocess.run([python or sys.executable, "-c", _VERSIONS_SCRIPT, *names], capture_output=True,
                          text=True, timeout=60)
    if proc.returncode != 0:
        raise ExpectationsError(f"could not read package versions from {python}: {proc.stderr.strip()[-300:]}")
    return json.loads(proc.stdout)
