"""Measures from a finished run, the threshold verdicts, and the results file.

Everything is computed on the master / local runner from locust's (already aggregated) stats entries
plus the server samples, so the same code serves a single process, ``--processes`` and master/worker.

A threshold is ``name = limit`` in the profile's table of ``loadtests/thresholds.toml``, meaning
"measure <= limit". A measure that could not be taken (no server memory against ``--host``, no SSE
users in the mix) is reported as skipped, never as passed.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from locust.stats import StatsEntry

MiB = 1024 * 1024
GATE_FAILED = 3  # exit code when a threshold is broken


def _merge(stats, predicate) -> StatsEntry | None:
    rows = [e for (name, method), e in list(stats.entries.items()) if predicate(method, name)]
    if not rows:
        return None
    merged = StatsEntry(stats, "merged", "")
    for row in rows:
        merged.extend(row)
    return merged


def _pct(entry: StatsEntry | None, q: float) -> float | None:
    if entry is None or entry.num_requests - entry.num_none_requests <= 0:
        return None
    return float(entry.get_response_time_percentile(q))


def _sum_length(stats, predicate) -> int:
    return sum(e.total_content_length for (n, m), e in list(stats.entries.items()) if predicate(m, n))


def measures(stats, sampler, settled) -> dict:
    """One flat dict of figures (ms, MiB, counts); None where not measured."""
    fast = {ph: _merge(stats, lambda m, n, ph=ph: n.startswith("fast ") and n.endswith(f"[{ph}]"))
            for ph in ("baseline", "mix")}
    ttfb = _merge(stats, lambda m, n: m == "TTFB")
    chunk = _merge(stats, lambda m, n: m == "CHUNK")
    sse = _merge(stats, lambda m, n: m == "SSE")
    out: dict = {}
    for ph, entry in fast.items():
        for q in (0.5, 0.95, 0.99):
            out[f"fast_{ph}_p{int(q * 100)}_ms"] = _pct(entry, q)
        out[f"fast_{ph}_requests"] = entry.num_requests if entry else 0
    out["fast_failures"] = sum(e.num_failures for e in fast.values() if e)
    out["fast_p95_ms"] = out["fast_mix_p95_ms"]
    b, m = out["fast_baseline_p95_ms"], out["fast_mix_p95_ms"]
    out["fast_p95_slowdown"] = round(m / b, 2) if b and m is not None else None
    out["ttfb_p50_ms"], out["ttfb_p95_ms"] = _pct(ttfb, 0.5), _pct(ttfb, 0.95)
    for label, entry in (("chunk_delay", chunk), ("sse_delay", sse)):
        for q in (0.5, 0.95, 0.99):
            out[f"{label}_p{int(q * 100)}_ms"] = _pct(entry, q)
    steady = _merge(stats, lambda m, n: m == "SSE" and n.endswith("[steady]"))
    out["sse_delay_steady_p99_ms"] = _pct(steady, 0.99)
    out["sse_events"] = sse.num_requests + 1 if sse else 0
    out["bytes_verified"] = _sum_length(stats, lambda m, n: m == "BYTES")
    out["lost_bytes"] = _sum_length(stats, lambda m, n: m == "LOSS" and not n.startswith("sse"))
    out["lost_events"] = _sum_length(stats, lambda m, n: m == "LOSS" and n.startswith("sse"))
    out["loss_failures"] = sum(e.num_failures for (n, m), e in list(stats.entries.items()) if m == "LOSS")
    out.update(_server_measures(sampler, settled))
    return out


def _server_measures(sampler, settled) -> dict:
    out = {k: None for k in ("rss_idle_mib", "rss_peak_mib", "rss_after_mib", "rss_returned_pct", "rss_growth_after_load_mib",
                             "peak_connections", "rss_per_stream_mib", "server_cpu_mean_pct",
                             "server_cpu_peak_pct")}
    loaded = sampler.of("baseline", "mix")
    own = [s.own_cpu for s in loaded[1:]]
    out["locust_cpu_mean_pct"] = round(statistics.fmean(own), 1) if own else None
    out["locust_cpu_peak_pct"] = round(max(own), 1) if own else None
    out["leaked_producers"] = settled.active if settled is not None else None
    if sampler.process is None or not loaded:
        return out
    idle = sampler.of("idle")
    rss_idle = min(s.rss for s in idle) if idle else loaded[0].rss
    peak = max(s.rss for s in loaded)
    conns = max(s.conns for s in loaded)
    cpu = [s.cpu for s in loaded[1:]]
    out.update(
        rss_idle_mib=round(rss_idle / MiB, 1),
        rss_peak_mib=round(peak / MiB, 1),
        peak_connections=conns,
        rss_per_stream_mib=round((peak - rss_idle) / MiB / max(conns, 1), 3),
        server_cpu_mean_pct=round(statistics.fmean(cpu), 1) if cpu else None,
        server_cpu_peak_pct=round(max(cpu), 1) if cpu else None,
    )
    if settled is not None and settled.rss:
        out["rss_after_mib"] = round(settled.rss / MiB, 1)
        grown = peak - rss_idle
        out["rss_returned_pct"] = round(100 * (peak - settled.rss) / grown, 1) if grown > 0 else None
        out["rss_growth_after_load_mib"] = round(max(0, settled.rss - peak) / MiB, 1)
    return out


#: Measures a server this run started must yield; missing one (its probe stopped answering, it died)
#: is a failure, not a skip.
LOCAL_REQUIRED = ("rss_per_stream_mib", "leaked_producers", "rss_growth_after_load_mib")


def failures_by_kind(stats) -> dict[str, int]:
    return {f"{e.method} {e.name}: {e.error}": e.occurrences for e in list(stats.errors.values())}


def verdicts(figures: dict, thresholds: dict, local: bool) -> list[dict]:
    out = []
    for name, limit in thresholds.items():
        value = figures.get(name)
        if value is None:
            status = "FAIL" if local and name in LOCAL_REQUIRED else "skipped"
        else:
            status = "pass" if value <= limit else "FAIL"
        out.append({"threshold": name, "limit": limit, "value": value, "status": status})
    return out


def write_results(path: Path, doc: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")


def summary_lines(doc: dict) -> list[str]:
    f = doc["figures"]
    where = doc["target"]
    lines = [f"streamspec load: {doc['adapter']}/{doc['server']} profile={doc['profile']} users={doc['users']} "
             f"target={where}"]
    if doc["server_memory"] is None:
        lines.append("  server memory: not measured (--host targets a deployment this run did not start)")
    keys = ("fast_baseline_p50_ms", "fast_baseline_p95_ms", "fast_baseline_p99_ms", "fast_mix_p50_ms",
            "fast_mix_p95_ms", "fast_mix_p99_ms", "fast_failures", "ttfb_p50_ms", "ttfb_p95_ms",
            "chunk_delay_p95_ms", "sse_delay_p50_ms", "sse_delay_p95_ms", "sse_delay_p99_ms", "sse_delay_steady_p99_ms",
            "bytes_verified",
            "lost_bytes", "lost_events", "rss_idle_mib", "rss_peak_mib", "rss_per_stream_mib", "rss_after_mib",
            "rss_returned_pct", "rss_growth_after_load_mib", "peak_connections", "leaked_producers", "server_cpu_mean_pct",
            "locust_cpu_mean_pct")
    lines += [f"  {k} = {f.get(k)}" for k in keys if f.get(k) is not None]
    for kind, n in doc["failures_by_kind"].items():
        lines.append(f"  failures: {n} x {kind}")
    for v in doc["gate"]:
        lines.append(f"  threshold {v['threshold']} <= {v['limit']}: {v['status']} (measured {v['value']})")
    bad = [v["threshold"] for v in doc["gate"] if v["status"] == "FAIL"]
    lines.append(f"streamspec load gate: {'FAILED: ' + ', '.join(bad) if bad else 'passed'}")
    return lines
