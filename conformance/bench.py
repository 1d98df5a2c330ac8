"""``python -m conformance.bench``: how long a full ``pytest conformance`` run takes, and why.

Budgets (the speed issue): a full run on the reference under uvicorn in at most 8 s wall (median of the
runs), every framework adapter in at most 12 s. This is a benchmark that prints figures, not a test: it
exits 0 whatever the time and says whether each budget held.

For each run it prints the wall time of the concurrent run (``--workers``, the default path) and, unless
``--no-sequential``, of a sequential run (``--workers=1``) of the same cases right after it; then the
slowest cases, the critical path (the part that finished last, and its cases), the lower bound of a
concurrent run (its longest single case plus the cost of starting a part), and where the CPU went: the
whole run's CPU, the share inside cases on each side of the socket (``cpu_s`` in the results,
``conformance/cpu_use.py``), the costliest cases, and the CPU floor (run CPU / cores) no schedule beats.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import shards

ROOT = Path(__file__).resolve().parent.parent
BUDGET_REFERENCE_S = 8.0
BUDGET_ADAPTER_S = 12.0


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def one_run(args: list[str], workers: int, path: Path) -> tuple[float, dict]:
    """Wall time of one ``pytest conformance`` run writing ``path`` and its results; ``doc["run_cpu_s"]`` is
    the CPU of the whole process tree (runner, parts, servers, store), which every process of it reaps
    on the way out. ``path`` is kept between runs, as a user's default results file is: the parts of the
    next run are balanced by this run's case durations (``conformance/shards.py``)."""
    t0, cpu0 = time.monotonic(), _children_cpu()
    subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", f"--results={path}",
                    f"--workers={workers}", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    wall, cpu = time.monotonic() - t0, _children_cpu() - cpu0
    doc = json.loads(path.read_text())
    doc["run_cpu_s"] = cpu
    return wall, doc


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def describe_cpu(doc: dict, wall: float) -> list[str]:
    """Where the run's CPU went: inside cases (suite side / server side, the costliest cases) and outside
    them (interpreters, imports, server start-ups), and the wall time no schedule can beat on this machine."""
    cases = [c for c in doc["cases"] if c.get("cpu_s")]
    if not cases:
        return []
    suite = sum(c["cpu_s"].get("suite", 0.0) for c in cases)
    server = sum(c["cpu_s"].get("server", 0.0) for c in cases)
    total = doc.get("run_cpu_s", 0.0)
    cost = lambda c: c["cpu_s"].get("suite", 0.0) + c["cpu_s"].get("server", 0.0)  # noqa: E731
    top = ", ".join(f"{c['id']} {c['cpu_s'].get('suite', 0):.1f}+{c['cpu_s'].get('server', 0):.1f}s"
                    for c in sorted(cases, key=cost, reverse=True)[:8])
    cpus = _cpus()
    return [f"  CPU: {total:.1f} s for the whole run: inside cases {suite:.1f} s suite + {server:.1f} s server, "
            f"outside them {max(0.0, total - suite - server):.1f} s; on {cpus} CPU(s) no schedule beats "
            f"{total / cpus:.1f} s wall",
            f"  costliest cases (suite+server CPU): {top}"]


def describe(doc: dict, wall: float) -> list[str]:
    cases = doc["cases"]
    lines = ["  slowest cases: " + ", ".join(f"{c['id']} {c['duration_s']:.2f}s"
                                             for c in sorted(cases, key=lambda c: -c["duration_s"])[:6])]
    parts = doc.get("parts") or []
    if parts:
        in_cases = sum(c["duration_s"] for c in cases)
        longest = max(parts, key=lambda p: p["duration_s"])
        overhead = wall - max(p["duration_s"] for p in parts)
        listing = ", ".join(f"{p['cases']} cases {p['duration_s']:.1f}s" for p in parts)
        lines.append(f"  parts: {listing}; time inside cases {in_cases:.1f}s; outside the parts {overhead:.1f}s")
        longest_case = max(c["duration_s"] for c in cases)
        start_cost = longest["duration_s"] - longest_case
        lines.append(f"  critical path: the {longest['cases']}-case part, {longest['duration_s']:.1f}s; lower "
                     f"bound ~ longest case {longest_case:.1f}s + part start-up (at most {start_cost:.1f}s here)")
        took = {c["id"]: c["duration_s"] for c in cases}
        members = sorted(longest.get("ids", []), key=lambda i: -took.get(i, 0.0))
        if members:
            lines.append("  its cases: " + ", ".join(f"{i} {took.get(i, 0.0):.2f}s" for i in members[:10])
                         + (f" and {len(members) - 10} more" if len(members) > 10 else ""))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--adapter", default="reference")
    parser.add_argument("--server", default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=shards.default_parts())
    parser.add_argument("--no-sequential", action="store_true", help="skip the sequential comparison run")
    opts = parser.parse_args(argv)
    args = [f"--adapter={opts.adapter}"] + ([f"--server={opts.server}"] if opts.server else [])
    concurrent, sequential = [], []
    # Named as the default results file is, so the first run is balanced by the committed matrix results
    # of this adapter and server and each later one by the run before it, as a user's repeated runs are.
    from streamspec import registry

    name = f"{opts.adapter}-{opts.server or registry.get(opts.adapter).default_server}.json"
    tmp = Path(tempfile.mkdtemp(prefix="streamspec-bench-"))
    (tmp / "sequential").mkdir()
    for i in range(opts.runs):
        wall, doc = one_run(args, opts.workers, tmp / name)
        concurrent.append(wall)
        print(f"run {i + 1}: concurrent ({opts.workers} parts) {wall:.1f} s wall for {len(doc['cases'])} cases "
              f"({doc['adapter']}/{doc['server']}; {', '.join(f'{v} {k}' for k, v in doc['summary'].items() if v)})")
        for line in describe(doc, wall) + describe_cpu(doc, wall):
            print(line)
        if not opts.no_sequential:
            seq_wall, seq_doc = one_run(args, 1, tmp / "sequential" / name)
            sequential.append(seq_wall)
            print(f"run {i + 1}: sequential {seq_wall:.1f} s wall "
                  f"({', '.join(f'{v} {k}' for k, v in seq_doc['summary'].items() if v)}); "
                  f"CPU {seq_doc['run_cpu_s']:.1f} s")
    shutil.rmtree(tmp, ignore_errors=True)
    reference_uvicorn = opts.adapter == "reference" and opts.server in (None, "uvicorn")
    budget = BUDGET_REFERENCE_S if reference_uvicorn else BUDGET_ADAPTER_S
    median = statistics.median(concurrent)
    print(f"concurrent wall: median {median:.1f} s (min {min(concurrent):.1f}, max {max(concurrent):.1f}) over "
          f"{len(concurrent)} run(s); {'within' if median <= budget else 'OVER'} the {budget:.0f} s budget")
    if sequential:
        print(f"sequential wall: median {statistics.median(sequential):.1f} s; concurrent is "
              f"{statistics.median(sequential) / median:.1f}x faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
