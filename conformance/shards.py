"""Run the suite as N concurrent parts: the fast path of ``pytest conformance``.

Cases spend their time waiting (a 1.5 s idle period, a 2 s cleanup bound, a browser reconnecting), so a
run is the sum of timers, not CPU. This module splits the selected cases into ``--workers`` parts and
runs each part as an ordinary sequential ``pytest conformance`` run with **its own server process**,
then merges the parts' results into the one results file the user asked for.

A part is a ``fork`` of this process taken after the case modules are imported (``preload``), not a
new interpreter: on 2 cores, six new interpreters each importing pytest, hypothesis and httpx cost
about 5 s of CPU before the first case, which is most of a run's budget.

Why parts with their own servers rather than cases sharing one server: a case that observes the
server's whole state (descriptors after 100 aborts, producers still ``active``, the event loop's
responsiveness while 20 streams are stalled) must not see another case's traffic. Within a part cases
run one after another against that part's server, exactly as in a sequential run, so no case runs
beside another on one server. What an earlier case of the same part left running would still load the
server for the next (a framework that never stops the producers of aborted streams: BlackSheep's BS8 in
``reports/findings/blacksheep.md``), so after every case the runner asks the probe whether producers are
still running or fixture files open and, if they are half a second later, restarts the server for the next
case
(``ServerManager.leftovers``; the case's figures say so).

Parts are balanced by expected duration (longest first onto the least loaded part): for each case, its
duration in the previous results file of the same adapter and server, else in the matrix's committed
results for it (``reports/results/``), else ``DEFAULT_WEIGHTS``.
Each part runs with ``--workers=1`` and explicit ``--case`` ids, so it is the sequential runner, with every
guarantee it has (one-line errors, exit 3 with the server's output when it will not start, no server
left behind: each child dies with this process, and each server with its child).
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable

from _pytest.main import _main as _pytest_main
from _pytest.main import wrap_session

from streamspec.launch import ROOT, ServerError, die_with_parent, use_private_pycache

from . import catalogue, downloads, junit, results


def default_parts() -> int:
    """Six parts, fewer on a machine with fewer than 2 CPUs (three parts per CPU).

    Measured on 2 cores (reference/uvicorn, 44 cases): 4 parts 7.6 s, 5 parts 6.8 s, 6 parts 6.2 s, 8
    parts 6.8 s: past six, parts contend for the CPUs and the cases themselves get slower. The wall time
    of a run cannot go below its longest case (the browser's, about 2.5 s) plus starting one server."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(6, 3 * cpus))


#: Expected seconds per case when no earlier results say better (measured on the reference, 2 cores).
DEFAULT_WEIGHTS = {
    "sse.browser-eventsource": 2.8, "abort.while-backpressured": 2.5, "sse.keepalive-comments": 2.0,
    "sse.flush-per-event": 1.8, "chunking.flush-per-write": 1.8, "backpressure.slow-reader": 1.4,
    "sse.resume": 0.8, "chunking.headers-first": 0.6, "backpressure.stalled-reader": 0.6,
    "abort.fin-cleanup": 0.5, "sse.headers-first": 0.4, "backpressure.loop-responsive": 0.4,
    "chunking.reassembly": 0.3, "sse.idle-disconnect": 0.2,
}
DEFAULT_WEIGHT = 0.1


def _weight(case_id: str, known: dict[str, float]) -> float:
    if case_id in known:
        return known[case_id]
    base = case_id.rsplit(".", 1)[0] if case_id.endswith((".chunked", ".length")) else case_id
    return DEFAULT_WEIGHTS.get(base, DEFAULT_WEIGHT)


def previous_durations(path: Path) -> dict[str, float]:
    """Per-case durations of an earlier results file (empty when there is none or it is unreadable)."""
    try:
        return {c["id"]: float(c["duration_s"]) for c in results.load(path)["cases"]}
    except (OSError, ValueError, KeyError):
        return {}


#: Families whose cases share one part: each needs something a server makes on first use at a price
#: (``objects.*``: the S3 client, about 0.7 s of CPU to import botocore and load its service model), so
#: one server per run pays it instead of one per part.
TOGETHER = ("objects.",)


def split(case_ids: list[str], parts: int, known: dict[str, float]) -> list[list[str]]:
    """Longest-processing-time-first: each case (or each ``TOGETHER`` family, as one unit), longest
    first, onto the part with the least work."""
    units: dict[str, list[str]] = {}
    for case_id in case_ids:
        family = next((f for f in TOGETHER if case_id.startswith(f)), case_id)
        units.setdefault(family, []).append(case_id)
    weight = {key: sum(_weight(c, known) for c in members) for key, members in units.items()}
    bins: list[tuple[float, list[str]]] = [(0.0, []) for _ in range(max(1, min(parts, len(units))))]
    for key in sorted(units, key=lambda k: -weight[k]):
        load, members = min(bins, key=lambda b: b[0])
        bins.remove((load, members))
        bins.append((load + weight[key], members + units[key]))
    return [sorted(members) for _, members in bins if members]


def selected(patterns: list[str]) -> list[str]:
    import fnmatch

    ids = [c["id"] for c in catalogue.cases()]
    return [i for i in ids if not patterns or any(fnmatch.fnmatchcase(i, p) for p in patterns)]


def fork_child(log, run: Callable[[], int], prepare: Callable[[], None] = lambda: None) -> int:
    """Fork; the parent gets the child's pid. The child dies with this process, calls ``prepare()``, sends
    its output to ``log``, and leaves with ``run()``'s exit status without running this process's exit
    handlers (a traceback in the log, status 70, if ``run`` raised)."""
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return pid
    code = 70
    try:
        if sys.platform == "linux":
            die_with_parent(parent)
        prepare()
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        code = int(run())
    except BaseException:  # noqa: BLE001 - the parent reads this from the log
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def preload(files: list[str] | None = None) -> None:
    """Import, once in this process, what every part would otherwise import for itself: the case modules
    (and through them hypothesis, httpx, anyio, the wire parsers). Parts are forked from here, so they
    start with all of it in memory; on 2 cores a part that starts in a few milliseconds instead of 0.8 s of
    CPU is most of what makes a concurrent run fast.

    Bytecode (and pytest's assertion rewriting) is cached in the same private directory the servers use
    (``launch.use_private_pycache``) even when ``PYTHONDONTWRITEBYTECODE`` is set, so this costs about
    0.3 s, not 1.5 s. A module that fails to import is left alone: the part that collects it reports the error.
    ``files``: the case files to import (default: all of them)."""
    if files is None:
        files = sorted({str(catalogue.HERE / c["file"]) for c in catalogue.cases()})
    use_private_pycache()
    for name in sorted({f"{catalogue.HERE.name}.{Path(f).stem}" for f in files if f.endswith(".py")}):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - reported by the part that collects it
            pass


class Forked:
    """A part's process: a fork of this one that runs the sequential runner on its cases.

    The interface of ``subprocess.Popen`` that the parent needs (poll, wait, send_signal, kill)."""

    def __init__(self, config, cases: list[str], files: list[str], results_path: Path, status: Path, log) -> None:
        capman = config.pluginmanager.getplugin("capturemanager")

        def prepare() -> None:  # pytest holds copies of the terminal's descriptors: let them go first
            if capman is not None:
                capman.stop_global_capturing()

        def run() -> int:
            """Exactly ``pytest <files> --workers=1 --case=... --results=<part file>``."""
            if capman is not None:  # capture again, now from the log
                capman.start_global_capturing()
                capman.suspend_global_capture()
            os.environ["STREAMSPEC_STATUS_FILE"] = str(status)
            opt = config.option
            opt.workers, opt.case, opt.results = 1, list(cases), str(results_path)
            junit.point_part_at(config, results_path.with_suffix(".xml"))
            config.args[:] = files
            return int(wrap_session(config, _pytest_main))

        self.pid = fork_child(log, run, prepare)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"part {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Part:
    """One part of the run: its cases, its process, its results file and its captured output."""

    def __init__(self, index: int, cases: list[str], config, files: list[str], workdir: Path) -> None:
        self.index, self.cases = index, cases
        self.results = workdir / f"part-{index}.json"
        self.status = workdir / f"part-{index}.status"
        self.log = open(workdir / f"part-{index}.log", "w+")
        self.t0 = time.monotonic()
        self.proc = Forked(config, cases, files, self.results, self.status, self.log)
        self.wall: float | None = None

    def output_tail(self, lines: int = 30) -> str:
        self.log.flush()
        self.log.seek(0)
        return "\n".join(self.log.read().strip().splitlines()[-lines:])

    def status_line(self) -> str | None:
        """What the child said when it had to stop the run (server would not start...), if anything."""
        try:
            return self.status.read_text().strip() or None
        except OSError:
            return None


def part_paths(config, cases: list[str]) -> list[str]:
    """The test files a part collects: only those holding its cases, so a part does not collect modules it
    will not run; the user's own paths when they are not the suite's."""
    here = catalogue.HERE
    args = [Path(config.invocation_params.dir, a.split("::")[0]).resolve() for a in config.args]
    if not all(a == here or here in a.parents for a in args):
        return list(config.args)
    files = {c["id"]: c["file"] for c in catalogue.cases()}
    return sorted({str(here / files[c]) for c in cases})


def run(config, results_path: Path, meta_name: str, report) -> int:
    """Run the parts, merge their results into ``results_path``, print the report; the exit status."""
    ids = selected(config.getoption("case"))
    if not ids:
        print(f"streamspec: no case matches {config.getoption('case')}")
        return 5
    try:  # the fixture tree and the store, made once here and shared by every part
        downloads.ensure(*downloads.needs(ids), relay=False)
    except ServerError as exc:
        print(f"streamspec: {exc}")
        return 3
    parts_n = config.getoption("workers")
    # The committed matrix results for this adapter and server, overridden case by case by the previous
    # run's file: a previous run of a few cases (``--case``) must not leave the rest at guessed weights.
    known = {**previous_durations(ROOT / "reports" / "results" / results_path.name),
             **previous_durations(results_path)}
    groups = split(ids, parts_n, known)
    print(f"streamspec: {len(ids)} cases against {meta_name} in {len(groups)} concurrent parts, each with its "
          f"own server (--workers=1 runs them in one)", flush=True)
    t0 = time.monotonic()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with tempfile.TemporaryDirectory(prefix="streamspec-parts-") as tmp:
        paths = [part_paths(config, g) for g in groups]
        preload([f for p in paths for f in p])
        parts = [Part(i + 1, g, config, p, Path(tmp)) for i, (g, p) in enumerate(zip(groups, paths))]
        try:
            stop = _wait(parts)
        except KeyboardInterrupt:
            _stop(parts)
            print("streamspec: interrupted; every part and its server stopped")
            return 2
        if stop is not None:
            _stop(parts)
            print(stop.status_line() or f"streamspec: part {stop.index} ended with exit code "
                  f"{stop.proc.returncode}:\n{stop.output_tail()}")
            return stop.proc.returncode
        docs, crashed, part_meta = [], [], []
        for part in parts:
            entry = {"cases": len(part.cases), "duration_s": round(part.wall or 0, 2), "ids": list(part.cases)}
            try:
                doc = results.load(part.results)
            except (OSError, ValueError):
                crashed.append(part)
            else:
                docs.append(doc)
                entry.update(in_cases_s=round(sum(c["duration_s"] for c in doc["cases"]), 2),
                             server_stop_s=doc.get("server_stop_s"))
            part_meta.append(entry)
        for part in crashed:
            print(f"streamspec: part {part.index} wrote no results (exit code {part.proc.returncode}); its "
                  f"output ends:\n{part.output_tail()}")
        for part in parts:
            part.log.close()
        if junit.requested(config):
            junit.merge([p.results.with_suffix(".xml") for p in parts], junit.requested(config))
    if not docs:
        return 3
    cases = [c for d in docs for c in d["cases"]]
    meta = {k: v for k, v in docs[0].items()
            if k not in ("schema", "finished", "summary", "cases", "findings", "server_stop_s")}
    meta.update(started=started, duration_s=round(time.monotonic() - t0, 2), workers=len(groups), parts=part_meta)
    results.write(results_path, meta, cases)
    report(cases, meta, results_path)
    bad = [c for c in cases if c["outcome"] in ("fail", "error", "unexpected-pass")]
    print(f"{len(cases) - len(bad)} passed, {len(bad)} failed in {meta['duration_s']:.1f}s "
          f"(passed counts expected failures and unsupported cases; see the results file)")
    if crashed or len(cases) != len(ids):
        return 1
    return 1 if bad else 0


def _wait(parts: list[Part]) -> Part | None:
    """Wait for every part; a part that stops the run (exit 3: no server; 4: usage) is returned at once."""
    pending = list(parts)
    while pending:
        for part in list(pending):
            code = part.proc.poll()
            if code is None:
                continue
            part.wall = time.monotonic() - part.t0
            pending.remove(part)
            print(f"streamspec: part {part.index}/{len(parts)} ({len(part.cases)} cases) finished in "
                  f"{part.wall:.1f} s", flush=True)
            if code in (3, 4):
                return part
        time.sleep(0.05)
    return None


def _stop(parts: list[Part]) -> None:
    """SIGTERM every running part (each stops its own server), SIGKILL what is left after 10 s."""
    for part in parts:
        if part.proc.poll() is None:
            part.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for part in parts:
        try:
            part.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            part.proc.kill()
            part.proc.wait()
