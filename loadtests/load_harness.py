"""The load suite's event listeners: options, the server's lifetime, phases, the gate, the results.

Only the master or the single local runner starts the server (a worker never does: with
``--processes`` the workers fork before ``init`` and learn the host from the master's spawn message),
samples it, judges thresholds and writes ``reports/load/<adapter>-<server>-<profile>.json``.
Every runner sets its own phase clock at ``test_start`` so users know baseline from mix.

This file defines no User class; the users are in ``load_users.py``.
"""

from __future__ import annotations

import logging
import gc
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import gevent
from locust import events
from locust.runners import WorkerRunner

import _gate
import _profiles
from _server import Sampler, start_server
from streamspec.launch import reports_dir

_RUN: dict = {}  # this process's run state (master/local only)
logging.getLogger("httpx").setLevel(logging.WARNING)  # the sampler's probe polls are not news


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    _profiles.add_arguments(parser)


@events.init.add_listener
def _init(environment, runner, **_kwargs) -> None:
    opts = environment.parsed_options
    if opts is None:  # a library use of locust without the command line
        return
    profile = _profiles.resolve(opts)
    _profiles.select_classes(environment, profile)
    if isinstance(runner, WorkerRunner):
        return
    if environment.host:
        parts = urlsplit(environment.host)
        _RUN.update(adapter=opts.adapter or "external", server=opts.server or parts.hostname, process=None,
                    sampler=Sampler(None, parts.hostname, parts.port or 80))
        print(f"streamspec load: targeting {environment.host} (not started by this run: no server memory, "
              f"CPU or connection figures)", flush=True)
    else:
        adapter = opts.adapter or "reference"
        process, server = start_server(adapter, opts.server, opts.app)
        environment.host = f"http://127.0.0.1:{process.port}"
        _RUN.update(adapter=adapter, server=server, process=process,
                    sampler=Sampler(process, "127.0.0.1", process.port))
        print(f"streamspec load: started {adapter}/{server}{' app=' + opts.app if opts.app else ''} at "
              f"{environment.host} (pids {sorted(process.pids())})", flush=True)
    _RUN["sampler"].start()
    _RUN["started"] = datetime.now(timezone.utc).isoformat(timespec="seconds")


@events.test_start.add_listener
def _test_start(environment, **_kwargs) -> None:
    _profiles.PHASE["start"] = time.perf_counter()
    sampler = _RUN.get("sampler")
    if sampler is not None:
        sampler.phase = "baseline"
        baseline = environment.parsed_options.baseline if environment.parsed_options else 0
        gevent.spawn_later(baseline, lambda: sampler.phase == "baseline" and setattr(sampler, "phase", "mix"))


@events.spawning_complete.add_listener
def _spawning_complete(user_count, **_kwargs) -> None:
    """Move everything alive once all users run into the permanent generation (``gc.freeze``).

    Why: with thousands of users the collector's full passes walk every greenlet, socket and parser
    each time, and each pass stops every user at once. Measured with 2,000 SSE subscribers in one
    process: per-event delay p99 210 ms, from those pauses (locust's CPU was 45%)."""
    if os.environ.get("STREAMSPEC_NO_GC_FREEZE") != "1":
        gc.collect()
        gc.freeze()


@events.test_stop.add_listener
def _test_stop(environment, **_kwargs) -> None:
    if _RUN.get("sampler") is not None:
        _RUN["sampler"].phase = "after"


@events.quitting.add_listener
def _quitting(environment, **_kwargs) -> None:
    if isinstance(environment.runner, WorkerRunner) or "sampler" not in _RUN:
        return
    opts = environment.parsed_options
    sampler, process = _RUN["sampler"], _RUN["process"]
    sampler.phase = "after"
    gevent.sleep(opts.settle)  # let connections close and producers clean up
    sampler.stop()
    died = process is not None and not process.alive
    settled = None if died else sampler.sample()
    stats = environment.runner.stats
    figures = _gate.measures(stats, sampler, settled)
    thresholds = _profiles.load_thresholds(opts.thresholds, opts.profile)
    gate = _gate.verdicts(figures, thresholds, local=process is not None)
    if died:
        gate.append({"threshold": "server_alive", "limit": True, "value": False, "status": "FAIL"})
    doc = {
        "schema": "streamspec.load/1",
        "adapter": _RUN["adapter"], "server": _RUN["server"], "app": opts.app, "profile": opts.profile,
        "target": environment.host, "started": _RUN.get("started"),
        "users": opts.num_users, "spawn_rate": opts.spawn_rate, "run_time_s": opts.run_time,
        "classes": {c.__name__: c.weight for c in environment.user_classes},
        "knobs": {k: getattr(opts, k) for k in _profiles.KNOBS},
        "server_memory": None if process is None else "rss of the server process tree, children included",
        "figures": figures,
        "failures_by_kind": _gate.failures_by_kind(stats),
        "gate": gate,
        "thresholds_file": opts.thresholds,
        "samples": [vars(s) for s in sampler.samples],
        "server_log_tail": process.log_tail(20) if died else "",
    }
    name = f"{doc['adapter']}-{doc['server']}-{opts.profile or 'custom'}.json"
    path = Path(opts.results) if opts.results else reports_dir() / "load" / name
    _gate.write_results(path, doc)
    if process is not None:
        process.stop()
    print("\n".join(_gate.summary_lines(doc)) + f"\n  results: {path}", flush=True)
    environment.process_exit_code = _gate.GATE_FAILED if any(v["status"] == "FAIL" for v in gate) else 0
