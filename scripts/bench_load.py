"""Benchmark of the load suite itself, and the cross-framework ``slow-clients`` table (not a test).

1. Capacity: how many concurrent stalled + slow streams one locust process sustains while its own CPU
   stays under 90% (one core is 100%). Steps up the user count of a StalledReader:SlowReader 1:1 mix
   against the reference under granian (its Rust I/O leaves the most CPU to locust on 2 cores) and
   reads locust's own CPU from the run's samples. A step "holds" when the mean CPU is under the limit
   and every stream stayed correct (no loss, no failed connection).
2. Table: the ``slow-clients`` profile against the reference (every server) and every adapter that
   starts, written as one markdown table to ``reports/load/slow-clients.md`` (per-run JSON next to it).

    python scripts/bench_load.py                        # both, 60 s table runs
    python scripts/bench_load.py --skip-capacity --run-time 30
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
sys.path.insert(0, str(ROOT))
OUT = ROOT / "reports" / "load"
CPU_LIMIT = 90.0


def locust(args: list[str], results: Path, timeout: float) -> tuple[int, dict, float]:
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests"), "--headless", "--only-summary",
           "--results", str(results), *args]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    doc = json.loads(results.read_text()) if results.exists() else {}
    if not doc:
        print(proc.stdout[-1500:] + proc.stderr[-1500:], file=sys.stderr)
    return proc.returncode, doc, time.monotonic() - t0


def tcp_mem_pages() -> int:
    """Pages the kernel's TCP stack holds now (/proc/net/sockstat)."""
    for line in Path("/proc/net/sockstat").read_text().splitlines():
        if line.startswith("TCP:"):
            parts = line.split()
            return int(parts[parts.index("mem") + 1])
    return 0


def tcp_pressure_pages() -> int:
    """net.ipv4.tcp_mem's middle value: above it the kernel shrinks every socket's buffers (which
    would disturb everything else on the machine, so the capacity steps stop there)."""
    return int(Path("/proc/sys/net/ipv4/tcp_mem").read_text().split()[1])


def capacity(steps: list[int], seconds: int) -> list[dict]:
    import threading

    rows = []
    pressure = tcp_pressure_pages()
    with tempfile.TemporaryDirectory() as tmp:
        for users in steps:
            args = ["StalledReader", "SlowReader", "--adapter", "reference", "--server", "granian",
                    "-u", str(users), "-r", str(max(50, users // 4)), "-t", f"{seconds}s", "--baseline", "0"]
            peak, done = [0], threading.Event()

            def watch():
                while not done.wait(0.5):
                    peak[0] = max(peak[0], tcp_mem_pages())

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            code, doc, wall = locust(args, Path(tmp) / f"cap{users}.json", timeout=seconds + 120)
            done.set()
            watcher.join()
            f = doc.get("figures", {})
            mix = [s for s in doc.get("samples", []) if s["phase"] == "mix"][4:]  # after spawning settles
            own = [s["own_cpu"] for s in mix]
            mean = round(sum(own) / len(own), 1) if own else None
            failures = sum(doc.get("failures_by_kind", {}).values())
            row = {"users": users, "locust_cpu_mean_pct": mean, "locust_cpu_peak_pct": max(own) if own else None,
                   "server_cpu_mean_pct": f.get("server_cpu_mean_pct"), "peak_connections": f.get("peak_connections"),
                   "verified_mib_s": round(f.get("bytes_verified", 0) / 1048576 / seconds, 2),
                   "lost_bytes": f.get("lost_bytes"), "failures": failures,
                   "kernel_tcp_mib": round(peak[0] * 4096 / 1048576), "kernel_pressure": peak[0] >= pressure * 0.95,
                   "holds": bool(mean is not None and mean < CPU_LIMIT and failures == 0 and not f.get("lost_bytes")
                                 and (f.get("peak_connections") or 0) >= users * 0.95)}
            rows.append(row)
            print("capacity", json.dumps(row), flush=True)
            if not row["holds"] or row["kernel_pressure"]:
                break  # locust's limit, or the kernel's TCP memory (a machine limit, not locust's)
    return rows


def targets() -> list[tuple[str, str]]:
    from streamspec import registry

    out = []
    for name in registry.names():
        if name == registry.EXTERNAL:
            continue
        adapter = registry.get(name)
        if adapter.missing_modules():
            continue
        servers = adapter.servers if name == "reference" else adapter.servers[:1]
        out += [(name, s) for s in servers]
    return out


def table(run_time: int, users: int) -> list[dict]:
    rows = []
    for adapter, server in targets():
        results = OUT / f"{adapter}-{server}-slow-clients.json"
        args = ["--profile", "slow-clients", "--adapter", adapter, "--server", server, "-u", str(users),
                "-r", "20", "-t", f"{run_time}s"]
        code, doc, wall = locust(args, results, timeout=run_time + 180)
        rows.append({"adapter": adapter, "server": server, "exit": code, "doc": doc})
        f = doc.get("figures", {})
        print("table", adapter, server, "exit", code, json.dumps({k: f.get(k) for k in (
            "fast_baseline_p95_ms", "fast_mix_p95_ms", "rss_per_stream_mib", "rss_peak_mib", "lost_bytes")}),
            flush=True)
    return rows


def _v(value, fmt="{:g}") -> str:
    return "–" if value is None else fmt.format(value)


def markdown(rows: list[dict], cap: list[dict], run_time: int, users: int) -> str:
    head = ("| adapter / server | fast p50/p95/p99 baseline (ms) | fast p50/p95/p99 mix (ms) | TTFB p50/p95 (ms) "
            "| verified MiB | lost bytes | RSS idle → peak → after (MiB) | RSS per stream (MiB) "
            "| peak conns | leaked producers | failures by kind | gate |")
    lines = [
        "# `slow-clients` profile across frameworks",
        "",
        f"Generated by `python scripts/bench_load.py` on a shared 2-core machine: {users} users (50% "
        f"StalledReader, 40% SlowReader at 64 KiB/s, 10% FastClient), spawn 20/s, {run_time} s, the first "
        f"10 s fast clients only (baseline). Streams are 64 MiB in 64 KiB chunks. RSS is the server "
        f"process tree's; RSS per stream = (peak − idle) / peak ESTABLISHED connections. Gate thresholds: "
        f"`loadtests/thresholds.toml`. Per-run JSON: `reports/load/<adapter>-<server>-slow-clients.json`.",
        "",
        head,
        "|" + "|".join(["---"] * (head.count("|") - 1)) + "|",
    ]
    for r in rows:
        f, doc = r["doc"].get("figures", {}), r["doc"]
        if not f:
            lines.append(f"| {r['adapter']} / {r['server']} | run failed (exit {r['exit']}) |" + " |" * 10)
            continue
        fails = "; ".join(f"{n}× {k}" for k, n in doc.get("failures_by_kind", {}).items()) or "none"
        broken = [v["threshold"] for v in doc.get("gate", []) if v["status"] == "FAIL"]
        lines.append(
            f"| {r['adapter']} / {r['server']} "
            f"| {_v(f['fast_baseline_p50_ms'])} / {_v(f['fast_baseline_p95_ms'])} / {_v(f['fast_baseline_p99_ms'])} "
            f"| {_v(f['fast_mix_p50_ms'])} / {_v(f['fast_mix_p95_ms'])} / {_v(f['fast_mix_p99_ms'])} "
            f"| {_v(f['ttfb_p50_ms'])} / {_v(f['ttfb_p95_ms'])} "
            f"| {f['bytes_verified'] / 1048576:.1f} | {f['lost_bytes']} "
            f"| {_v(f['rss_idle_mib'])} → {_v(f['rss_peak_mib'])} → {_v(f['rss_after_mib'])} "
            f"| {_v(f['rss_per_stream_mib'])} | {_v(f['peak_connections'])} | {_v(f['leaked_producers'])} "
            f"| {fails} | {'pass' if not broken else 'FAIL: ' + ', '.join(broken)} |")
    if cap:
        lines += ["", "## Capacity of one locust process", "",
                  "StalledReader:SlowReader 1:1 against the reference under granian, stepping users up until "
                  f"locust's own mean CPU reaches {CPU_LIMIT:g}% of a core or a stream fails.", "",
                  "Each stalled or slow stream pins ~4 MB of the server's kernel send buffer; the steps stop when the "
                  "kernel's TCP memory nears `net.ipv4.tcp_mem` pressure (on this machine before locust's CPU limit).",
                  "",
                  "| users | locust CPU mean / peak (%) | server CPU mean (%) | peak conns | verified MiB/s | failures "
                  "| kernel TCP MiB | holds |",
                  "|---|---|---|---|---|---|---|---|"]
        for c in cap:
            lines.append(f"| {c['users']} | {_v(c['locust_cpu_mean_pct'])} / {_v(c['locust_cpu_peak_pct'])} "
                         f"| {_v(c['server_cpu_mean_pct'])} | {_v(c['peak_connections'])} | {c['verified_mib_s']} "
                         f"| {c['failures']} | {c['kernel_tcp_mib']}{' (pressure)' if c['kernel_pressure'] else ''} "
                         f"| {'yes' if c['holds'] else 'no'} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-time", type=int, default=60)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--steps", default="100,200,400,800", help="capacity user counts")
    parser.add_argument("--step-time", type=int, default=20)
    parser.add_argument("--skip-capacity", action="store_true")
    parser.add_argument("--skip-table", action="store_true")
    args = parser.parse_args()
    cap = [] if args.skip_capacity else capacity([int(s) for s in args.steps.split(",")], args.step_time)
    if cap:
        held = [c["users"] for c in cap if c["holds"]]
        print(f"capacity: one locust process sustains {max(held) if held else 'fewer than ' + str(cap[0]['users'])} "
              f"stalled+slow streams under {CPU_LIMIT:g}% CPU (largest step that held"
              f"{'; stopped by kernel TCP memory pressure' if cap[-1]['kernel_pressure'] else ''})")
    rows = [] if args.skip_table else table(args.run_time, args.users)
    if rows:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "slow-clients.md").write_text(markdown(rows, cap, args.run_time, args.users))
        print(f"table written to {OUT / 'slow-clients.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
