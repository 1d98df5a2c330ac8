"""``python -m conformance.flakes``: run the same suite N times and report every case whose outcome ever
differed, with the figures of each run. A verdict that differs between runs is a bug of the suite (or a
race of the framework, to be recorded as ``intermittent`` in its expectations): it is never retried into
a pass.

    python -m conformance.flakes --adapter=reference --runs 20
    python -m conformance.flakes --adapter=sanic --runs 10 --table reports/REPEATS.md

Each run is a normal ``pytest conformance`` (concurrent parts unless ``--workers=1``). ``--results``
writes one results file: the last run's, where every case whose outcome differed is ``intermittent`` with
the outcome of each run in ``figures.runs``. ``--table`` adds (or replaces) this adapter/server's row in a
Markdown table of runs, differing cases, runs with a regression and wall times (under a lock: two studies
may run side by side, each the other's "second suite"). Exit status 1 when any outcome differed or any
run regressed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from streamspec.launch import ROOT

from . import results, shards

TABLE_HEAD = ("| adapter/server | runs | workers | differing cases | runs with a regression "
              "| wall min / median / max (s) | when |\n|---|---|---|---|---|---|---|\n")
#: Outcomes that make a run fail (the suite's exit status is non-zero).
REGRESSIONS = ("fail", "error", "unexpected-pass")


def run_many(adapter: str, server: str | None, runs: int, workers: int, extra: list[str]) -> list[tuple[float, dict]]:
    out = []
    with tempfile.TemporaryDirectory(prefix="streamspec-flakes-") as tmp:
        for i in range(runs):
            path = Path(tmp) / f"run-{i}.json"
            argv = [sys.executable, "-m", "pytest", "conformance", "-q", f"--adapter={adapter}",
                    f"--workers={workers}", f"--results={path}", *extra]
            if server:
                argv.append(f"--server={server}")
            t0 = time.monotonic()
            subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            wall = time.monotonic() - t0
            try:
                doc = results.load(path)
            except (OSError, ValueError):
                print(f"run {i + 1}: no results file", flush=True)
                continue
            out.append((wall, doc))
            print(f"run {i + 1}/{runs}: {wall:.1f} s, {doc['summary']}", flush=True)
    return out


def differing(docs: list[dict]) -> dict[str, list[tuple[str, dict]]]:
    """case id -> [(outcome, figures)] per run, for the cases whose outcome was not always the same."""
    per_case: dict[str, list[tuple[str, dict]]] = {}
    for doc in docs:
        for c in doc["cases"]:
            per_case.setdefault(c["id"], []).append((c["outcome"], c.get("figures", {})))
    return {k: v for k, v in per_case.items() if len({o for o, _ in v}) > 1 or len(v) != len(docs)}


def merged(docs: list[dict], diff: dict) -> tuple[dict, list[dict]]:
    last = docs[-1]
    cases = []
    for c in last["cases"]:
        c = dict(c)
        if c["id"] in diff:
            c["figures"] = {**c.get("figures", {}), "runs": [o for o, _ in diff[c["id"]]]}
            c["outcome"], c["reason"] = "intermittent", f"outcome differed between {len(docs)} runs"
        cases.append(c)
    meta = {k: v for k, v in last.items() if k not in ("schema", "finished", "summary", "cases", "findings")}
    return meta, cases


def update_table(path: Path, row_key: str, row: str) -> None:
    """Add or replace this row; under a lock, since two repeat studies may run side by side."""
    import fcntl

    with open(path, "a") as lock:  # the table file itself is the lock: nothing is left behind
        fcntl.flock(lock, fcntl.LOCK_EX)
        lines = path.read_text().splitlines(keepends=True) if path.exists() else []
        if not any(line.startswith("| adapter/server |") for line in lines):
            lines += ["\n" if lines and lines[-1].strip() else "", TABLE_HEAD]
        lines = [line for line in lines if not line.startswith(f"| {row_key} |")]
        lines.append(row + "\n")
        path.write_text("".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.flakes", description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", default="reference")
    parser.add_argument("--server", default=None)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--workers", type=int, default=shards.default_parts())
    parser.add_argument("--results", type=Path, default=None, help="write the merged results file here")
    parser.add_argument("--table", type=Path, default=None, help="add this run's row to a Markdown table")
    parser.add_argument("pytest_args", nargs="*", help="more arguments for pytest conformance (after --)")
    opts = parser.parse_args(argv)
    done = run_many(opts.adapter, opts.server, opts.runs, opts.workers, opts.pytest_args)
    if not done:
        print("no run produced results")
        return 2
    docs = [d for _, d in done]
    walls = [w for w, _ in done]
    diff = differing(docs)
    name = f"{docs[0]['adapter']}/{docs[0]['server']}"
    for case_id, per_run in sorted(diff.items()):
        print(f"DIFFERS {case_id}: " + "; ".join(f"run {i + 1} {o} {json.dumps(f)[:200]}"
                                                for i, (o, f) in enumerate(per_run)))
    print(f"{name}: {len(docs)} runs, {len(diff)} cases with differing outcomes; wall min {min(walls):.1f} / "
          f"median {statistics.median(walls):.1f} / max {max(walls):.1f} s")
    if opts.results:
        results.write(opts.results, *merged(docs, diff))
    regressed = sum(1 for d in docs if any(c["outcome"] in REGRESSIONS for c in d["cases"]))
    print(f"{name}: {regressed} of {len(docs)} runs had a regression (fail, error or unexpected pass)")
    if opts.table:
        cases = ", ".join(f"`{c}`" for c in sorted(diff)) or "0"
        update_table(opts.table, name, f"| {name} | {len(docs)} | {opts.workers} | {cases} | {regressed} | "
                     f"{min(walls):.1f} / {statistics.median(walls):.1f} / {max(walls):.1f} | "
                     f"{time.strftime('%Y-%m-%d')} |")
    return 1 if diff or regressed else 0


if __name__ == "__main__":
    sys.exit(main())
