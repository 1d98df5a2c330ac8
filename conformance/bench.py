"""``python -m conformance.bench``: wall time of a full ``pytest conformance`` run, and its cases.

Budget (issue 2): under 30 s for the whole suite against the reference on a 2-core machine. This is a
benchmark that prints figures, not a test: it exits 0 whatever the time, and says whether the budget
held. ``--runs N`` repeats the run to show the spread.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET_S = 30.0


def one_run(args: list[str]) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "results.json"
        t0 = time.monotonic()
        subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", "--results", str(results), *args],
                       cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        wall = time.monotonic() - t0
        return wall, json.loads(results.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.bench", description=__doc__)
    parser.add_argument("--adapter", default="reference")
    parser.add_argument("--server", default=None)
    parser.add_argument("--runs", type=int, default=1)
    opts = parser.parse_args(argv)
    args = [f"--adapter={opts.adapter}"] + ([f"--server={opts.server}"] if opts.server else [])
    walls = []
    for i in range(opts.runs):
        wall, doc = one_run(args)
        walls.append(wall)
        slowest = sorted(doc["cases"], key=lambda c: -c["duration_s"])[:5]
        print(f"run {i + 1}: {wall:.1f} s wall for {len(doc['cases'])} cases "
              f"({doc['adapter']}/{doc['server']}; {doc['summary']})")
        print("  slowest: " + ", ".join(f"{c['id']} {c['duration_s']:.2f}s" for c in slowest))
    worst = max(walls)
    verdict = "within" if worst < BUDGET_S else "OVER"
    print(f"suite wall time: min {min(walls):.1f} s, max {worst:.1f} s over {len(walls)} run(s); "
          f"{verdict} the {BUDGET_S:.0f} s budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
