"""``python -m conformance.matrix``: the whole matrix in one command.

Every built-in adapter under every server it supports, each run its own results file in
``reports/results/<adapter>-<server>.json``, then ``reports/MATRIX.md`` regenerated from them. Each run
is split into concurrent parts (each part with its own server), as many as its work last time calls
for; runs start longest first, as many at a time as keep at most ``--lanes`` parts running, so the whole
matrix takes about as long as its total work spread over the lanes, not the sum of its runs. A progress
line per finished run, a one-screen summary at the end. An adapter whose framework is not installed is
listed as skipped, with the command that installs it. Exit status 1 if any run regressed (a case failed
that its adapter's expectations do not list, or an expected failure passed).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from streamspec import registry
from streamspec.launch import ROOT, ServerError, reports_dir

from . import downloads, html_report, matrix_table, results, shards

RESULTS_DIR = reports_dir() / "results"  # the checkout's reports/results/, or ./streamspec-results/results/


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


class Run:
    """One adapter/server run: a fork of this process that runs ``pytest conformance`` for it.

    A fork, not a new interpreter: this process has already imported pytest, the plugin and the case
    modules (``shards.preload``), so a run starts in milliseconds instead of about a second of CPU, and
    each of its parts is a fork of it again. On 2 cores that CPU is the matrix's budget."""

    def __init__(self, name: str, server: str, workers: int, out_dir: Path, python: str | None = None) -> None:
        self.name, self.server = name, server
        self.path = out_dir / run_file(name, server, python)
        self.log = tempfile.TemporaryFile("w+")
        self.t0 = time.monotonic()
        self.wall = 0.0
        self.code: int | None = None
        argv = ["conformance", "-q", f"--adapter={name}", f"--server={server}", f"--workers={workers}",
                f"--results={self.path}", *([f"--python={python}"] if python else [])]

        def run() -> int:
            os.chdir(ROOT)
            return int(pytest.main(argv))

        self.pid = shards.fork_child(self.log, run)

    def finished(self, status: int) -> None:
        self.code = os.waitstatus_to_exitcode(status)
        self.wall = time.monotonic() - self.t0

    def doc(self) -> dict | None:
        try:
            return results.load(self.path)
        except (OSError, ValueError):
            return None

    def output_tail(self, chars: int = 2000) -> str:
        self.log.seek(0)
        return self.log.read()[-chars:]


#: Seconds of cases per part the matrix aims at when it sizes a run, and the bounds on a run's parts. The
#: matrix is bound by the CPU, not by waiting (12 runs, about 100 s of CPU on 2 cores), so fewer, longer
#: parts win: measured 76 s wall at 7 s per part, 68-70 s at 10, 66-68 s at 14.
PART_TARGET_S, MIN_PARTS, MAX_PARTS = 14.0, 2, 6
#: Case-seconds assumed for a run that has no earlier results file.
UNKNOWN_RUN_S = 40.0


def python_version(python: str) -> str:
    """``3.12`` for an interpreter path (ServerError when it does not run)."""
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ServerError(f"--python-run: {python} does not run: {exc}") from None
    return out.stdout.strip()


def run_file(name: str, server: str, python: str | None) -> str:
    """``<adapter>-<server>.json``; a run under another interpreter gets ``-py<X.Y>`` too."""
    return f"{name}-{server}{f'-py{python_version(python)}' if python else ''}.json"


def case_seconds(name: str, server: str, out_dir: Path, python: str | None = None) -> float:
    """The sum of this run's case durations last time (its results file): the work it has to share out."""
    try:
        return sum(float(c["duration_s"]) for c in results.load(out_dir / run_file(name, server, python))["cases"])
    except (OSError, ValueError, KeyError):
        return UNKNOWN_RUN_S


def parts_for(seconds: float) -> int:
    """A run's parts in proportion to its work: a run whose failing cases wait out their bounds (60 s of
    cases) gets four, the reference (27 s) two, so that runs end at about the same time."""
    return max(MIN_PARTS, min(MAX_PARTS, round(seconds / PART_TARGET_S)))


def run_all(todo: list[tuple[str, str]], lanes: int, workers: int | None, out_dir: Path, report) -> list[Run]:
    """Every run, longest first, as many at a time as keep at most ``lanes`` parts running (a run too big
    for the free lanes lets shorter ones go first); ``report(run, index)`` as each ends. ``workers``
    fixes every run's parts; by default they follow the run's expected work (``parts_for``)."""
    shards.preload()
    try:  # one fixture tree and store for every run
        downloads.ensure(files=True, store=True, relay=False)
    except ServerError as exc:
        print(f"streamspec: {exc}")
        raise SystemExit(3) from None
    todo = [(*ns, None)[:3] for ns in todo]  # (adapter, server, python or None)
    work = {ns: case_seconds(ns[0], ns[1], out_dir, ns[2]) for ns in todo}
    queue = sorted(todo, key=lambda ns: -work[ns])
    running: dict[int, tuple[Run, int]] = {}
    done: list[Run] = []
    try:
        while queue or running:
            for ns in list(queue):  # longest first; a shorter run fills lanes a longer one cannot use yet
                parts = workers or parts_for(work[ns])
                if running and sum(n for _, n in running.values()) + parts > lanes:
                    continue
                queue.remove(ns)
                run = Run(ns[0], ns[1], parts, out_dir, ns[2])
                running[run.pid] = (run, parts)
            pid, status = os.waitpid(-1, 0)
            entry = running.pop(pid, None)
            if entry is None:
                continue
            run = entry[0]
            run.finished(status)
            done.append(run)
            report(run, len(done))
    except KeyboardInterrupt:
        for run, _ in running.values():
            try:
                os.kill(run.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for run, _ in running.values():
            os.waitpid(run.pid, 0)
        raise
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.matrix", description=__doc__.split("\n\n")[0])
    parser.add_argument("--lanes", type=int, default=12,
                        help="most parts (each a server and its cases) running at once, over all runs "
                             "(default 12)")
    parser.add_argument("--workers", type=int, default=None,
                        help="parts per run (default: by the run's work last time, 2 to 6)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="directory of the results files")
    parser.add_argument("--matrix", type=Path, default=reports_dir() / "MATRIX.md")
    parser.add_argument("--python-run", action="append", default=[], metavar="ADAPTER:SERVER:PYTHON",
                        help="one more run, its server under another interpreter (a framework release that needs "
                             "a newer Python than the suite's: django:uvicorn:/opt/django6/bin/python); repeatable")
    opts = parser.parse_args(argv)
    todo, skipped = runs()
    for spec in opts.python_run:
        name, server, python = spec.split(":", 2)
        todo.append((name, server, python))
    for line in skipped:
        print(f"skipped {line}")
    opts.out.mkdir(parents=True, exist_ok=True)
    print(f"streamspec matrix: {len(todo)} runs, longest first, at most {opts.lanes} parts at a time "
          f"({opts.workers or 'by each run’s work'} parts per run)", flush=True)
    t0 = time.monotonic()

    def report(run: Run, index: int) -> None:
        doc = run.doc()
        counts = ", ".join(f"{v} {k}" for k, v in (doc or {}).get("summary", {}).items() if v) or "no results"
        print(f"[{index}/{len(todo)}] {run.name}/{run.server}: {counts} ({run.wall:.1f} s)"
              f"{'' if run.code == 0 else f'  REGRESSED (exit {run.code})'}", flush=True)
        if doc is None:
            print(run.output_tail())

    try:
        runs_done = run_all(todo, opts.lanes, opts.workers, opts.out, report)
    except KeyboardInterrupt:
        print("streamspec matrix: interrupted; every run and its servers stopped")
        return 2
    wall = time.monotonic() - t0
    done = [(r.name, r.server, r.code, r.wall, r.doc()) for r in runs_done]
    docs = [d for *_, d in done if d is not None]
    opts.matrix.write_text(matrix_table.render(matrix_table.load_docs(docs)))
    html_report.write(html_report.render(docs), opts.matrix.parent)  # index.html beside MATRIX.md, same data
    bad = [(n, s, c) for n, s, c, _, _ in done if c != 0]
    print(f"\n{'run':<28} {'exit':>4} {'wall s':>7}  summary")
    for name, server, code, run_wall, doc in sorted(done):
        summary = ", ".join(f"{v} {k}" for k, v in (doc or {}).get("summary", {}).items() if v)
        print(f"{name + '/' + server:<28} {code:>4} {run_wall:>7.1f}  {summary}")
    print(f"\nstreamspec matrix: {len(done)} runs in {wall:.1f} s wall; {len(bad)} regressed; "
          f"{opts.matrix.relative_to(ROOT) if opts.matrix.is_relative_to(ROOT) else opts.matrix} and index.html "
          "beside it regenerated (python -m conformance.html_report --screenshot renews the README's picture)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
