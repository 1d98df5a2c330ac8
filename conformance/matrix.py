"""``python -m conformance.matrix``: the whole matrix in one command.

Every built-in adapter under every server it supports, each run its own results file in
``reports/results/<adapter>-<server>.json``, then ``reports/MATRIX.md`` regenerated from them. Runs go
``--jobs`` at a time, each split into ``--workers`` concurrent parts (each part with its own server), so
the whole matrix takes about as long as its slowest runs, not their sum. A progress line per finished
run, a one-screen summary at the end. An adapter whose framework is not installed is listed as skipped,
with the command that installs it. Exit status 1 if any run regressed (a case failed that its adapter's
expectations do not list, or an expected failure passed).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from streamspec import registry
from streamspec.launch import ROOT

from . import matrix_table, results

RESULTS_DIR = ROOT / "reports" / "results"


def runs() -> tuple[list[tuple[str, str]], list[str]]:
    """(adapter, server) pairs to run, and lines saying what is skipped and how to install it."""
    todo, skipped = [], []
    for name in registry.BUILTIN:
        adapter = registry.get(name) if name in registry.names() else None
        if adapter is None:
            skipped.append(f"{name}: not importable")
            continue
        if adapter.missing_modules():
            skipped.append(f"{name}: {', '.join(adapter.missing_modules())} not installed: {adapter.install_command}")
            continue
        todo += [(name, server) for server in adapter.servers]
    return todo, skipped


def run_one(name: str, server: str, workers: int, out_dir: Path) -> tuple[str, str, int, float, dict | None]:
    path = out_dir / f"{name}-{server}.json"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", f"--adapter={name}",
                           f"--server={server}", f"--workers={workers}", f"--results={path}"],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall = time.monotonic() - t0
    try:
        doc = results.load(path)
    except (OSError, ValueError):
        doc = None
        print(proc.stdout[-2000:])
    return name, server, proc.returncode, wall, doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.matrix", description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=3, help="runs at the same time (default 3)")
    parser.add_argument("--workers", type=int, default=3, help="concurrent parts per run (default 3)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="directory of the results files")
    parser.add_argument("--matrix", type=Path, default=ROOT / "reports" / "MATRIX.md")
    opts = parser.parse_args(argv)
    todo, skipped = runs()
    for line in skipped:
        print(f"skipped {line}")
    opts.out.mkdir(parents=True, exist_ok=True)
    print(f"streamspec matrix: {len(todo)} runs, {opts.jobs} at a time, {opts.workers} parts each", flush=True)
    t0 = time.monotonic()
    done = []
    with ThreadPoolExecutor(max_workers=opts.jobs) as pool:
        futures = [pool.submit(run_one, n, s, opts.workers, opts.out) for n, s in todo]
        for future in as_completed(futures):
            name, server, code, wall, doc = future.result()
            done.append((name, server, code, wall, doc))
            counts = ", ".join(f"{v} {k}" for k, v in (doc or {}).get("summary", {}).items() if v) or "no results"
            print(f"[{len(done)}/{len(todo)}] {name}/{server}: {counts} ({wall:.1f} s)"
                  f"{'' if code == 0 else f'  REGRESSED (exit {code})'}", flush=True)
    wall = time.monotonic() - t0
    docs = [d for *_, d in done if d is not None]
    opts.matrix.write_text(matrix_table.render(matrix_table.load_docs(docs)))
    bad = [(n, s, c) for n, s, c, _, _ in done if c != 0]
    print(f"\n{'run':<28} {'exit':>4} {'wall s':>7}  summary")
    for name, server, code, run_wall, doc in sorted(done):
        summary = ", ".join(f"{v} {k}" for k, v in (doc or {}).get("summary", {}).items() if v)
        print(f"{name + '/' + server:<28} {code:>4} {run_wall:>7.1f}  {summary}")
    print(f"\nstreamspec matrix: {len(done)} runs in {wall:.1f} s wall; {len(bad)} regressed; "
          f"{opts.matrix.relative_to(ROOT) if opts.matrix.is_relative_to(ROOT) else opts.matrix} regenerated")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
