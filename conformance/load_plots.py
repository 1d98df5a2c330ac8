"""Load results as pictures that open offline: one SVG per load run, and ``index.html`` listing them.

    python -m conformance.load_plots                       # reports/load/*.json -> reports/load/plots/
    python -m conformance.load_plots A.json --out DIR

Each picture has four panels drawn from the results file's own data (``samples``, twice a second, and
``figures``): the server's RSS over time, with the load phases marked; active streams and server CPU
over time; the fast clients' latency percentiles before the load (baseline) and during it (mix); and the
capacity view, RSS and CPU against the number of active streams. Plain SVG written here (no plotting
library, no script); ``render`` is pure, so tests check exactly what the command writes.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from pathlib import Path

from streamspec.launch import reports_dir

MiB = 1024 * 1024
W, H = 440, 220  # one panel
PAD_L, PAD_R, PAD_T, PAD_B = 52, 12, 26, 30
PHASE_FILL = {"baseline": "#eef5ff", "mix": "#fff3e0", "after": "#eef8ee"}


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _axes(x0: float, y0: float, title: str, xlabel: str, ylabel: str, xmax: float, ymax: float) -> list[str]:
    left, top, right, bottom = x0 + PAD_L, y0 + PAD_T, x0 + W - PAD_R, y0 + H - PAD_B
    out = [f'<text x="{x0 + W / 2}" y="{y0 + 16}" text-anchor="middle" font-weight="bold">{html.escape(title)}</text>',
           f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#333"/>',
           f'<text x="{(left + right) / 2}" y="{y0 + H - 6}" text-anchor="middle">{html.escape(xlabel)}</text>',
           f'<text x="{x0 + 12}" y="{(top + bottom) / 2}" text-anchor="middle" '
           f'transform="rotate(-90 {x0 + 12} {(top + bottom) / 2})">{html.escape(ylabel)}</text>']
    for frac in (0, 0.5, 1):
        out.append(f'<text x="{left - 4}" y="{bottom - frac * (bottom - top) + 4}" text-anchor="end">'
                   f'{ymax * frac:.3g}</text>')
        if xmax:  # a bar chart has no x scale
            out.append(f'<text x="{left + frac * (right - left)}" y="{bottom + 14}" text-anchor="middle">{xmax * frac:.3g}</text>')
    return out


def _polyline(points: list[tuple[float, float]], colour: str, name: str) -> str:
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline class="{name}" fill="none" stroke="{colour}" stroke-width="1.5" points="{pts}"/>'


def render_run(doc: dict) -> str:
    """One load run as an SVG document (four panels, 2 × 2)."""
    samples = doc.get("samples") or []
    t0 = samples[0]["t"] if samples else 0.0
    ts = [s["t"] - t0 for s in samples]
    tmax = max(ts) if ts else 1.0
    parts: list[str] = []
    # 1. RSS over time, phases shaded
    x0, y0 = 0, 0
    rss = [s["rss"] / MiB for s in samples]
    rmax = max(rss) * 1.1 if rss else 1.0
    fx = _scale(0, tmax, x0 + PAD_L, x0 + W - PAD_R)
    fy = _scale(0, rmax, y0 + H - PAD_B, y0 + PAD_T)
    start = 0
    for i in range(1, len(samples) + 1):  # one shaded band per run of equal phase
        if i == len(samples) or samples[i]["phase"] != samples[start]["phase"]:
            phase = samples[start]["phase"]
            a, b = fx(ts[start]), fx(ts[i - 1])
            parts.append(f'<rect class="phase-{html.escape(phase)}" x="{a:.1f}" y="{y0 + PAD_T}" width="{max(b - a, 1):.1f}" '
                         f'height="{H - PAD_T - PAD_B}" fill="{PHASE_FILL.get(phase, "#f4f4f4")}"><title>{html.escape(phase)}</title></rect>')
            start = i
    parts += _axes(x0, y0, "server RSS (MiB) over time", "seconds", "MiB", tmax, rmax)
    parts.append(_polyline([(fx(t), fy(r)) for t, r in zip(ts, rss)], "#c0392b", "rss"))
    # 2. active streams and CPU over time
    x0, y0 = W, 0
    active = [s.get("active") or 0 for s in samples]  # None: the probe did not answer that sample
    cpu = [s.get("cpu") or 0.0 for s in samples]
    amax = max(max(active, default=0), max(cpu, default=0.0), 1) * 1.1
    fx = _scale(0, tmax, x0 + PAD_L, x0 + W - PAD_R)
    fy = _scale(0, amax, y0 + H - PAD_B, y0 + PAD_T)
    parts += _axes(x0, y0, "active streams (blue), server CPU % (grey)", "seconds", "count / %", tmax, amax)
    parts.append(_polyline([(fx(t), fy(a)) for t, a in zip(ts, active)], "#2e86c1", "active"))
    parts.append(_polyline([(fx(t), fy(c)) for t, c in zip(ts, cpu)], "#7f8c8d", "cpu"))
    # 3. fast-client latency percentiles, baseline vs mix
    x0, y0 = 0, H
    fig = doc.get("figures") or {}
    bars = [(f"{phase} p{p}", fig.get(f"fast_{phase}_p{p}_ms")) for phase in ("baseline", "mix") for p in (50, 95, 99)]
    bars = [(label, v) for label, v in bars if isinstance(v, (int, float))]
    bmax = max((v for _, v in bars), default=1.0) * 1.2 or 1.0
    parts += _axes(x0, y0, "fast clients: latency percentiles (ms)", "", "ms", 0, bmax)
    fy = _scale(0, bmax, y0 + H - PAD_B, y0 + PAD_T)
    slot = (W - PAD_L - PAD_R) / max(len(bars), 1)
    for i, (label, v) in enumerate(bars):
        x = x0 + PAD_L + i * slot + slot * 0.15
        colour = "#5dade2" if label.startswith("baseline") else "#e67e22"
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{fy(v):.1f}" width="{slot * 0.7:.1f}" height="{fy(0) - fy(v):.1f}" '
                     f'fill="{colour}"><title>{html.escape(label)}: {v:g} ms</title></rect>')
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{fy(v) - 3:.1f}" text-anchor="middle">{v:g}</text>')
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{y0 + H - PAD_B + 12}" text-anchor="middle" '
                     f'font-size="9">{html.escape(label)}</text>')
    # 4. capacity: RSS and CPU against active streams
    x0, y0 = W, H
    smax = max(max(active, default=0), 1)
    cmax = max(max(rss, default=0.0), max(cpu, default=0.0), 1.0) * 1.1
    fx = _scale(0, smax, x0 + PAD_L, x0 + W - PAD_R)
    fy = _scale(0, cmax, y0 + H - PAD_B, y0 + PAD_T)
    parts += _axes(x0, y0, "capacity: RSS MiB (red), CPU % (grey) vs streams", "active streams", "MiB / %", smax, cmax)
    for a, r, c in zip(active, rss, cpu):
        parts.append(f'<circle class="cap-rss" cx="{fx(a):.1f}" cy="{fy(r):.1f}" r="2" fill="#c0392b"/>')
        parts.append(f'<circle class="cap-cpu" cx="{fx(a):.1f}" cy="{fy(c):.1f}" r="2" fill="#7f8c8d"/>')
    title = f"{doc.get('adapter')}/{doc.get('server')} {doc.get('profile')}: {doc.get('users')} users, {doc.get('run_time_s')} s"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{2 * H + 24}" '
            f'viewBox="0 -24 {2 * W} {2 * H + 24}" font-family="sans-serif" font-size="11">'
            f'<title>{html.escape(title)}</title><text x="4" y="-8" font-weight="bold">{html.escape(title)}</text>'
            + "".join(parts) + "</svg>\n")


def render(docs: dict[str, dict]) -> dict[str, str]:
    """{relative path: text}: ``plots/<name>.svg`` per run, and ``plots/index.html`` showing them all."""
    out = {f"plots/{name}.svg": render_run(doc) for name, doc in sorted(docs.items())}
    items = "".join(f'<h2>{html.escape(name)}</h2><img src="{html.escape(name)}.svg" alt="{html.escape(name)}">'
                    for name in sorted(docs))
    out["plots/index.html"] = ('<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>streamspec load '
                               'runs</title><link rel="icon" href="data:,"></head><body style="font-family:sans-serif">'
                               '<h1>streamspec load runs</h1><p>Rendered by <code>python -m conformance.load_plots</code> '
                               f'from the load results files beside this folder.</p>{items}</body></html>\n')
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.load_plots", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="load results files (default: reports/load/*.json)")
    parser.add_argument("--out", default=None, help="directory that gets plots/ (default: beside the files)")
    args = parser.parse_args(argv)
    load_dir = reports_dir() / "load"
    paths = [Path(p) for p in args.files] or sorted(load_dir.glob("*.json"))
    if not paths:
        print("streamspec: no load results files to render", file=sys.stderr)
        return 2
    docs = {p.stem: json.loads(p.read_text()) for p in paths}
    out = Path(args.out) if args.out else paths[0].parent
    for rel, text in render(docs).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    print(f"streamspec: {out / 'plots' / 'index.html'} ({len(docs)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
