"""Write or update an adapter's expectations file from a results file, once a person has decided that the
run's failures are accepted (``streamspec expectations --from RESULTS.json``).

Text in, text out (``update``): the file's own comments, reasons and finding links stay as they are, since
they are the evidence a reader needs; only whole ``[[expected]]`` entries are added or removed:
- a case that failed and no entry covers gets a new entry, narrowed to the run's server, with the run's
  reason prefixed by the framework and version (``--pin-version`` also adds ``versions = ["fw==X"]``, so
  the entry stops applying, and says so, when the framework changes);
- an entry narrowed to the run's server whose every matching case passed in this run is removed;
- an entry for all servers whose cases passed here is kept and reported: it may still hold elsewhere.
Errors (a precondition not met, a crash) are never written as accepted failures: they are reported.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field

from .compare import PASSED


@dataclass
class Update:
    text: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept_passing: list[str] = field(default_factory=list)  # all-server entries that passed on this server
    errors: list[str] = field(default_factory=list)  # cases that errored: not written

    def summary(self) -> str:
        lines = [f"added {len(self.added)}, removed {len(self.removed)}"]
        lines += [f"  + {c}" for c in self.added]
        lines += [f"  - {c}" for c in self.removed]
        lines += [f"  kept (applies to every server, passed on this one; narrow it by hand if it should): {c}"
                  for c in self.kept_passing]
        lines += [f"  not written (an error is not an accepted failure; fix the run): {c}" for c in self.errors]
        return "\n".join(lines)


def _blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) line indexes of each ``[[expected]]`` entry: its header up to the next blank line,
    comment, or header."""
    lines = text.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.strip() == "[[expected]]":
            j = i + 1
            while j < len(lines) and lines[j].strip() and not lines[j].lstrip().startswith(("#", "[")):
                j += 1
            out.append((i, j))
    return out


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def update(text: str, results: dict, pin_version: bool = False) -> Update:
    """The expectations file ``text`` updated from one run's parsed ``results``."""
    server, adapter = results.get("server"), results.get("adapter", "")
    framework_version = results.get("versions", {}).get(adapter)
    label = f"{adapter} {framework_version}" if framework_version else adapter
    cases = {c["id"]: c for c in results.get("cases", [])}
    entries = tomllib.loads(text).get("expected", []) if text.strip() else []
    blocks = _blocks(text)
    if len(blocks) != len(entries):
        raise ValueError(f"the file has {len(entries)} [[expected]] entries but {len(blocks)} could be located in "
                         "its text (entries written as inline tables?): update it by hand")
    result = Update(text)
    drop = []
    for entry, block in zip(entries, blocks):
        if entry.get("server") not in (None, server):
            continue
        matched = [c for i, c in cases.items() if fnmatch.fnmatchcase(i, entry["case"])]
        if not matched or not all(c["outcome"] in PASSED for c in matched):
            continue
        if entry.get("server") == server:
            drop.append(block)
            result.removed.append(entry["case"] + f" (server {server})")
        else:
            result.kept_passing.append(entry["case"])
    lines = text.splitlines()
    for start, end in sorted(drop, reverse=True):
        while end < len(lines) and not lines[end].strip():
            end += 1  # the blank line after it
        del lines[start:end]

    def covered(case_id: str) -> bool:
        return any(fnmatch.fnmatchcase(case_id, e["case"]) and e.get("server") in (None, server) for e in entries)

    new = []
    for case_id, case in sorted(cases.items()):
        if case["outcome"] == "error":
            result.errors.append(case_id)
        elif case["outcome"] == "fail" and not covered(case_id):
            reason = re.sub(r"\s+", " ", case.get("reason", "")).strip()[:400] or "failed"
            block = ["[[expected]]", f"case = {_toml_string(case_id)}", f"server = {_toml_string(server)}"]
            if pin_version and framework_version:
                block.append(f"versions = [{_toml_string(f'{adapter}=={framework_version}')}]")
            block.append(f"reason = {_toml_string(f'{label}: {reason}')}")
            new.append("\n".join(block))
            result.added.append(case_id)
    body = "\n".join(lines).rstrip("\n")
    if new:
        stamp = results.get("finished", "")
        header = (f"# Added by streamspec expectations --from ({adapter}/{server}, run finished {stamp}): "
                  "each reason is the failure as it arrived; add the finding that explains it.")
        body = (body + "\n\n" if body else "") + header + "\n\n" + "\n\n".join(new)
    result.text = body + "\n" if body else ""
    tomllib.loads(result.text)  # what is written must load
    return result
