"""Run ``pytest conformance`` in a subprocess, as a user would, and return its results file.

The project's own tests judge the suite from the outside: exit code plus the results JSON, never by
importing case code into the test process (a broken variant may patch modules in its server).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ROOT / "tests" / "variants"


@dataclass
class SuiteRun:
    returncode: int
    output: str
    results: dict | None

    def ids_with(self, *outcomes: str) -> set[str]:
        return {c["id"] for c in (self.results or {}).get("cases", []) if c["outcome"] in outcomes}

    @property
    def failed(self) -> set[str]:
        return self.ids_with("fail", "error", "unexpected-pass")

    def accounts(self, ids) -> str:
        """Each named case's outcome, reason, figures, the end of its trace and of the server's output, one
        block per case: put first in an assertion message, because CI shows only the start of a long one,
        and the summary table in ``output`` truncates each reason to a column."""
        blocks = []
        for case in (self.results or {}).get("cases", []):
            if case["id"] in ids:
                trace = "\n    ".join((case.get("trace") or "").strip().splitlines()[-12:])
                output = "\n    | ".join((case.get("server_output") or "").splitlines()[-15:])
                blocks.append(f"  {case['id']}: {case['outcome']}: {case.get('reason') or ''}\n"
                              f"    figures: {case.get('figures')}" + (f"\n    {trace}" if trace else "")
                              + (f"\n    server output:\n    | {output}" if output else ""))
        return "\n".join(blocks)


def run_suite(results: Path, *args: str, select: str | tuple[str, ...] | None = None, timeout: float = 600,
              env: dict | None = None) -> SuiteRun:
    cmd = [sys.executable, "-m", "pytest", "conformance", "-q", "--results", str(results), *args]
    for pattern in ([select] if isinstance(select, str) else select or ()):
        cmd += [f"--case={pattern}"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    doc = json.loads(results.read_text()) if results.exists() else None
    return SuiteRun(proc.returncode, proc.stdout[-4000:] + proc.stderr[-2000:], doc)


def variant_meta(name: str) -> dict:
    """CAUGHT_BY, SELECT, SERVER_ARGS and SILENT of a variant, read without importing it.

    ``CAUGHT_BY = "*"`` with ``SILENT = True``: a server that never answers; every case must fail."""
    tree = ast.parse((VARIANTS / f"{name}.py").read_text())
    meta = {"CAUGHT_BY": None, "SELECT": None, "SERVER_ARGS": (), "SILENT": False}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in meta:
                meta[node.targets[0].id] = ast.literal_eval(node.value)
    return meta


#: The streaming families: what a variant that breaks ``/stream`` or ``/sse`` can change. The reference's
#: downloads have a handler of their own (``reference/app.py``), so such a variant runs these only.
STREAM_FAMILIES = ("chunking.*", "errors.*", "abort.*", "backpressure.*", "sse.*")


def variant_args(name: str) -> tuple[list[str], str | tuple[str, ...] | None, set[str] | str]:
    meta = variant_meta(name)
    args = ["--adapter=reference", f"--app=tests.variants.{name}:app", "--ignore-expectations"]
    args += [f"--server-arg={a}" for a in meta["SERVER_ARGS"]]
    caught = meta["CAUGHT_BY"]
    select = meta["SELECT"] if meta["SELECT"] is not None or caught == "*" else STREAM_FAMILIES
    return args, select, caught if caught == "*" else set(caught or ())
