"""How many SSE subscribers one locust process holds with per-event delay p99 <= 100 ms (not a test).

Steps ``SseSubscriber`` users up (``--steps``) against the reference (uvicorn by default; ``--server``),
each step a fresh server and a fresh locust process, events every ``--interval`` ms, and prints per
step: the per-event delay p50/p99 once every user was spawned (``[steady]`` rows; the spawning's own
delays are reported beside it), events verified and lost, locust's own CPU and the server's. A step
"holds" when the steady p99 is at most ``--p99-limit`` ms, nothing was lost and every subscriber was
connected. The goal of the speed issue: at least 2,000 subscribers from one process.

    python scripts/bench_sse_fanout.py --steps 1000,2000,3000 --step-time 40
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


def step(users: int, seconds: int, server: str, interval: float, spawn_rate: int, processes: int = 1) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(tmp) / "fanout.json"
        cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests"), "SseSubscriber", "--headless",
               "--only-summary", "--adapter", "reference", "--server", server, "-u", str(users), "-r",
               str(spawn_rate), "-t", f"{seconds}s", "--baseline", "0", "--sse-interval", f"{interval:g}",
               "--results", str(results), *(["--processes", str(processes)] if processes > 1 else [])]
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 180)
        doc = json.loads(results.read_text()) if results.exists() else {}
    if not doc:
        print(proc.stdout[-1500:] + proc.stderr[-1500:], file=sys.stderr)
    f = doc.get("figures", {})
    failures = sum(doc.get("failures_by_kind", {}).values())
    return {"users": users, "wall_s": round(time.monotonic() - t0, 1),
            "steady_p99_ms": f.get("sse_delay_steady_p99_ms"), "all_p50_ms": f.get("sse_delay_p50_ms"),
            "all_p99_ms": f.get("sse_delay_p99_ms"), "events": f.get("sse_events"),
            "lost_events": f.get("lost_events"), "failures": failures,
            "peak_connections": f.get("peak_connections"), "locust_cpu_mean_pct": f.get("locust_cpu_mean_pct"),
            "locust_cpu_peak_pct": f.get("locust_cpu_peak_pct"), "server_cpu_mean_pct": f.get("server_cpu_mean_pct")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="1000,2000,3000")
    parser.add_argument("--step-time", type=int, default=40)
    parser.add_argument("--server", default="uvicorn")
    parser.add_argument("--interval", type=float, default=500.0, help="ms between a subscriber's events")
    parser.add_argument("--spawn-rate", type=int, default=250)
    parser.add_argument("--p99-limit", type=float, default=100.0)
    parser.add_argument("--processes", type=int, default=1, help="locust processes (locust's --processes)")
    args = parser.parse_args()
    held = []
    print("| subscribers | steady delay p99 (ms) | all delay p50 / p99 (ms) | events | lost | failures "
          "| peak conns | locust CPU mean / peak (%) | server CPU mean (%) | holds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for users in [int(s) for s in args.steps.split(",")]:
        r = step(users, args.step_time, args.server, args.interval, args.spawn_rate, args.processes)
        holds = (r["steady_p99_ms"] is not None and r["steady_p99_ms"] <= args.p99_limit and not r["lost_events"]
                 and not r["failures"] and (r["peak_connections"] or 0) >= users)
        held += [users] if holds else []
        print(f"| {users} | {r['steady_p99_ms']} | {r['all_p50_ms']} / {r['all_p99_ms']} | {r['events']} "
              f"| {r['lost_events']} | {r['failures']} | {r['peak_connections']} | {r['locust_cpu_mean_pct']} / "
              f"{r['locust_cpu_peak_pct']} | {r['server_cpu_mean_pct']} | {'yes' if holds else 'no'} |", flush=True)
    print(f"largest step that held (steady p99 <= {args.p99_limit:g} ms, nothing lost, all connected): "
          f"{max(held) if held else 'none'} subscribers, reference/{args.server}, {args.processes} locust process(es)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
