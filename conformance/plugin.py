"""The pytest plugin behind ``pytest conformance``: options, the target server, results.

Loaded through its ``pytest11`` entry point (``pyproject.toml``), in a checkout as when installed, so
``pytest --help`` lists the options. It only starts a server when a conformance case asks for the
``target`` fixture, and does nothing in a pytest run that collected no streamspec case.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
import time
from pathlib import Path

import pytest

from streamspec import registry
from streamspec.launch import ServerError, reports_dir, use_private_pycache

from . import downloads, expectations, results, shards, tracebacks
from .cases import PreconditionNotMet, case_info
from .cpu_use import CpuMark
from .key_figures import key_figure
from .target import ServerManager

use_private_pycache()  # before any case module is imported (and its assertions rewritten)

_MANAGER = pytest.StashKey[ServerManager]()
_FIGURES = pytest.StashKey[dict]()
_RESULTS = pytest.StashKey[list]()
_META = pytest.StashKey[dict]()


def pytest_addoption(parser) -> None:
    group = parser.getgroup("streamspec", "streamspec conformance")
    group.addoption("--adapter", default="reference",
                    help="adapter to test: reference (default), aiohttp, sanic, socketify, nexios, any "
                         "installed third-party adapter, or external (with --base-url)")
    group.addoption("--server", default=None,
                    help="server to run the adapter under (reference: uvicorn, hypercorn, granian)")
    group.addoption("--base-url", default=None,
                    help="with --adapter=external: URL of a running server that serves the contract")
    group.addoption("--results", default=None,
                    help="results JSON path (default reports/runs/<adapter>-<server>.json)")
    group.addoption("--ignore-expectations", action="store_true",
                    help="ignore the adapter's expected failures: every failure fails the run")
    group.addoption("--expectations", default=None, metavar="TOML",
                    help="this expectations file instead of the adapter's own (your accepted failures; "
                         "entries may name versions, e.g. versions = [\"sanic<26\"])")
    group.addoption("--port", type=int, default=None, help="port for the server (default: a free one)")
    group.addoption("--app", default=None,
                    help="reference only: serve another ASGI app (module:attr); tests/ use it for "
                         "broken variants")
    group.addoption("--case", action="append", default=[], metavar="PATTERN",
                    help="run only cases whose id matches this glob, e.g. 'abort.*' (repeatable)")
    group.addoption("--server-arg", action="append", default=[],
                    help="extra argument for the server command (repeatable)")
    group.addoption("--python", default=None, metavar="PATH",
                    help="interpreter that runs the adapter's server (e.g. another virtualenv's python, for "
                         "an old framework release); versions in the results come from that interpreter")
    group.addoption("--workers", type=int,
                    default=int(os.environ.get("STREAMSPEC_WORKERS", "0")) or shards.default_parts(),
                    help="run the cases in this many concurrent parts, each with its own server (default "
                         "6, 3 per CPU on smaller machines, or STREAMSPEC_WORKERS); 1 runs them one after "
                         "another in this process")
    group.addoption("--require-browser", action="store_true",
                    default=os.environ.get("STREAMSPEC_REQUIRE_BROWSER") == "1",
                    help="fail (not 'unsupported') the browser case when no browser is installed; also "
                         "STREAMSPEC_REQUIRE_BROWSER=1")


def _usage(message: str) -> pytest.UsageError:
    return pytest.UsageError(message)


def resolve(config):
    """(adapter or None for external, adapter name, server) from the options; UsageError (one line,
    exit 4) for anything wrong, before any server or part is started."""
    name = config.getoption("adapter")
    base_url = config.getoption("base_url")
    if name == registry.EXTERNAL:
        if not base_url:
            raise _usage("--adapter=external needs --base-url=http://host:port of a running server")
        return None, name, config.getoption("server") or "external"
    if base_url:
        raise _usage("--base-url only goes with --adapter=external")
    try:
        adapter = registry.get(name)
    except registry.UnknownAdapter as exc:
        raise _usage(str(exc)) from None
    server = config.getoption("server") or adapter.default_server
    if server not in adapter.servers:
        raise _usage(f"unknown server {server!r} for adapter {name}; valid servers: "
                     f"{', '.join(adapter.servers)}")
    missing = adapter.missing_modules()
    if missing:
        raise _usage(f"adapter {name} needs {', '.join(missing)}, which is not installed: "
                     f"{adapter.install_command}")
    if config.getoption("app") and not adapter.accepts_app:
        raise _usage(f"--app only works with the reference adapter, not {name}")
    if config.getoption("workers") < 1:
        raise _usage("--workers must be at least 1")
    return adapter, name, server


def _results_path(config, adapter, name, server) -> Path:
    path = config.getoption("results")
    meta = {"adapter": adapter.name if adapter else name, "server": server, "app": config.getoption("app")}
    return Path(path) if path else reports_dir() / "runs" / default_results_name(meta)


def _runs_conformance_only(config) -> bool:
    here = Path(__file__).resolve().parent
    for arg in config.args:
        path = (Path(config.invocation_params.dir) / arg.split("::")[0]).resolve()
        if path != here:
            return False
    return bool(config.args)


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """``pytest conformance`` with ``--workers`` > 1: run the cases in concurrent parts (shards.py). Any
    run that is not a plain whole-suite run (external target, fixed port, -k/-m, nodeids, --collect-only,
    --help, a part itself) runs sequentially as before."""
    opt = config.option
    if getattr(opt, "help", False) or getattr(opt, "version", False) or opt.collectonly \
            or getattr(opt, "showfixtures", False) or getattr(opt, "markers", False):
        return None
    if not hasattr(opt, "workers") or opt.workers <= 1 or not _runs_conformance_only(config):
        return None
    if opt.keyword or opt.markexpr or getattr(opt, "usepdb", False) or opt.base_url or opt.port:
        return None
    adapter, name, server = resolve(config)
    path = _results_path(config, adapter, name, server)
    return shards.run(config, path, f"{adapter.name if adapter else name}/{server}",
                      functools.partial(_print_report, verbose=config.option.verbose > 0))


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "streamspec(id, level, source, requires): a conformance case")
    adapter, name, server = resolve(config)
    base_url = config.getoption("base_url")
    config.stash[_MANAGER] = ServerManager(adapter, name, server, base_url, config.getoption("port"),
                                           config.getoption("app"), tuple(config.getoption("server_arg")),
                                           config.getoption("python"))
    config.stash[_RESULTS] = []
    config.stash[_META] = {
        "adapter": adapter.name if adapter else name,
        "server": server,
        "app": config.getoption("app"),
        "server_args": config.getoption("server_arg"),
        "strict": bool(config.getoption("ignore_expectations")),
        "versions": {},
        "versions_from": "server",
        "python_executable": config.getoption("python"),
        "idiom": adapter.idiom if adapter else "",
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "t0": time.monotonic(),
    }


def pytest_collection_modifyitems(config, items) -> None:
    if not any(case_info(item) is not None for item in items):
        return  # not a streamspec run (the plugin is installed for every pytest in this environment)
    manager = config.stash[_MANAGER]
    expected = _expectations(config, manager)
    config.stash[_META]["expectations_not_applied"] = [
        {"case": exp.case, "versions": list(exp.versions), "why": why, "reason": exp.reason}
        for exp, why in expected.not_applied]
    patterns = config.getoption("case")
    if patterns:
        keep, dropped = [], []
        for item in items:
            info = case_info(item)
            matched = info is not None and any(fnmatch.fnmatchcase(info["id"], p) for p in patterns)
            (keep if matched else dropped).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep
    for item in items:
        info = case_info(item)
        if info is None:
            continue
        item.user_properties += [("case_id", info["id"]), ("level", info["level"])]  # in --junitxml
        item.extra_keyword_matches.add(info["id"])  # -k abort.idle.length selects by case id
        exp = expected.for_case(info["id"])
        if exp is not None and exp.intermittent:
            item.stash[_INTERMITTENT] = exp.reason
            item.add_marker(pytest.mark.xfail(reason=f"known intermittent: {exp.reason}", strict=False,
                                              raises=AssertionError))
        elif exp is not None:
            # raises=AssertionError: an error (precondition not met, a crash) is never the expected failure
            item.add_marker(pytest.mark.xfail(reason=f"expected failure: {exp.reason}", strict=True,
                                              raises=AssertionError))
        item.stash[_FIGURES] = {}
    ids = [info["id"] for item in items if (info := case_info(item)) is not None]
    if manager.adapter is not None and not config.option.collectonly:
        try:
            config.stash[_DOWNLOADS] = downloads.ensure(*downloads.needs(ids))
        except ServerError as exc:
            pytest.exit(f"streamspec: {exc}", returncode=3)


def _expectations(config, manager: ServerManager) -> "expectations.Expectations":
    """The adapter's expectations for this server and the versions installed where the server runs."""
    if config.getoption("ignore_expectations") or manager.adapter is None:
        return expectations.Expectations([])
    path = Path(config.getoption("expectations")) if config.getoption("expectations") else manager.adapter.expectations
    if config.getoption("expectations") and not path.exists():
        raise pytest.UsageError(f"streamspec: no such expectations file: {path}")
    try:
        names = expectations.named_distributions(path)
        installed = expectations.installed_versions(names, config.getoption("python"))
        return expectations.load(path, manager.server, installed)
    except expectations.ExpectationsError as exc:
        raise pytest.UsageError(f"streamspec: {exc}") from None


def _lacked(manager: ServerManager, requires) -> str | None:
    if manager.adapter is None:  # external: nothing local to observe
        if "local-process" in requires:
            return "local-process: the server was not started by the suite (--adapter=external)"
        return None
    return manager.adapter.lacks_any(requires)


@pytest.fixture
def target(request):
    """The running server under test (started once per run, restarted if it died)."""
    manager = request.config.stash[_MANAGER]
    info = case_info(request.node) or {}
    reason = _lacked(manager, info.get("requires", ()))
    if reason:
        pytest.skip(f"unsupported: {reason}")
    first = manager.starts == 0 and manager.target is None
    if info.get("fresh_server") and manager.target is not None and manager.target.process is not None:
        manager.stop(grace=1.0)  # a server of its own: see conformance/cases.py, fresh_server
    try:
        tgt = manager.ensure()
    except ServerError as exc:
        if first:
            status = os.environ.get("STREAMSPEC_STATUS_FILE")  # a part of a concurrent run: tell the parent
            if status:
                Path(status).write_text(f"streamspec: {exc}\n")
            pytest.exit(f"streamspec: {exc}", returncode=3)
        raise
    if "objects" in info.get("requires", ()):
        tgt.warm_store()  # per server process: a restarted server is a new Target
    if tgt.process is not None:
        request.node.stash[_LOG_AT] = (tgt.process, tgt.process.log_size())
    cpu = CpuMark(tgt.process)
    yield tgt
    request.node.stash[_CPU] = cpu.spent()  # measured before any restart below: this case's own cost
    tgt.forget_connections()  # a server that died is judged in the call phase and restarted by the next case
    leftover = manager.leftovers()
    if leftover:  # the next case gets a server with nothing running (ServerManager.leftovers says why)
        request.node.stash.setdefault(_FIGURES, {})["leftover"] = leftover
        manager.stop(grace=1.0)


@pytest.fixture
def files(request) -> "downloads.Downloads":
    """The run's fixture tree and this runner's relay to the store (``conformance/downloads.py``)."""
    found = request.config.stash.get(_DOWNLOADS, None)
    if found is None:
        pytest.skip("unsupported: local-process: the fixture tree exists only for a server the suite started")
    info = case_info(request.node) or {}
    if "objects" in info.get("requires", ()) and found.relay is None:
        pytest.skip(f"unsupported: objects: no S3 store for this run ({found.no_store or 'not started'})")
    return found


@pytest.fixture
def figures(request) -> dict:
    """Measured figures of this case; they go into the results file whatever the outcome."""
    return request.node.stash.setdefault(_FIGURES, {})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """After a case passed: no connection it used may hold bytes after a complete response (a HEAD or
    204 with a body, garbage after the last chunk). That is a failure of the case that sent the request."""
    outcome = yield
    target = item.funcargs.get("target") if hasattr(item, "funcargs") else None
    if target is None or case_info(item) is None:
        return
    # A failed case may have killed the server: give a dying server a moment to be reaped before judging.
    manager = item.config.stash[_MANAGER]
    died = manager.died(grace=0.3 if outcome.excinfo is not None else 0.0, when=" during this case")
    if died:  # the case's traffic killed the server: a failure of the server, with its last words
        outcome.force_exception(AssertionError(died))
        return
    hung = manager.unresponsive()
    if manager.late is not None:  # busy, not deaf: said, not judged (see ServerManager.unresponsive)
        item.stash.setdefault(_FIGURES, {})["afterwards"] = (
            f"busy: answered GET /probe only {manager.late:g} s after this case, while using a CPU")
    if hung:  # alive but deaf: this case's failure; the next case gets a new server, not a timeout
        where = " (aborted: where its threads were is in its output)" if manager.abort_for_stacks() else ""
        manager.stop(grace=1.0)
        if outcome.excinfo is None:
            outcome.force_exception(AssertionError(f"{hung} after this case{where}"))
        else:  # the case's own failure stands; say what the server did next, which may be its cause
            item.stash.setdefault(_FIGURES, {})["afterwards"] = f"{hung}{where}"
        return
    if outcome.excinfo is not None:
        return
    for conn in target.connections:
        extra = conn.stray_bytes()
        if extra:
            ex = conn.exchange
            outcome.force_exception(AssertionError(
                f"{len(extra)} bytes arrived after the complete response to {ex.method} "
                f"{ex.target.split('?')[0]} ({ex.status}): {extra[:120]!r}"))
            return


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Capture wire traces before the target fixture forgets the connections.
    if call.when == "call" and call.excinfo is not None and "target" in item.funcargs:
        item.stash[_TRACE] = item.funcargs["target"].traces()
    if call.excinfo is not None and tracebacks.repair(call.excinfo.value):
        call.excinfo = pytest.ExceptionInfo.from_exception(call.excinfo.value)
    outcome = yield
    report = outcome.get_result()
    info = case_info(item)
    if info is None:
        return
    entry = item.stash.get(_ENTRY, None)
    if entry is None:
        entry = {"id": info["id"], "level": info["level"], "source": info["source"],
                 "nodeid": item.nodeid, "outcome": "pass", "duration_s": 0.0, "figures": {},
                 "reason": "", "trace": ""}
        item.stash[_ENTRY] = entry
        item.config.stash[_RESULTS].append(entry)
    entry["duration_s"] = round(entry["duration_s"] + report.duration, 3)
    entry["figures"] = item.stash.get(_FIGURES, {})
    if _CPU in item.stash:
        entry["cpu_s"] = item.stash[_CPU]
    xfail_reason = getattr(report, "wasxfail", None)
    intermittent = item.stash.get(_INTERMITTENT, None)
    if intermittent is not None and report.when == "call" and (xfail_reason is not None or report.passed):
        entry["outcome"] = "intermittent"
        entry["reason"] = f"known intermittent: {intermittent}"
        entry["figures"]["this_run"] = "fail" if report.skipped else "pass"
        if report.skipped:
            entry["figures"]["this_run_reason"] = _short(report)
    elif report.skipped and xfail_reason is not None:
        entry["outcome"], entry["reason"] = "expected-fail", _short(report)
    elif report.skipped:
        entry["outcome"] = "unsupported"
        entry["reason"] = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        entry["reason"] = entry["reason"].removeprefix("Skipped: ")
    elif report.failed and report.when == "call" and call.excinfo is not None \
            and call.excinfo.errisinstance(PreconditionNotMet):
        entry["outcome"] = "error"
        entry["reason"] = f"precondition not met: {call.excinfo.value}"
        entry["trace"] = item.stash.get(_TRACE, "")
    elif report.failed and report.when == "call":
        strict_xpass = "XPASS(strict)" in str(report.longrepr)
        entry["outcome"] = "unexpected-pass" if strict_xpass else "fail"
        entry["reason"] = _short(report)
        entry["trace"] = item.stash.get(_TRACE, "")
    elif report.failed:
        entry["outcome"] = "error"
        entry["reason"] = _short(report)
    failed_here = entry["outcome"] in ("fail", "error", "expected-fail") or entry["figures"].get("this_run") == "fail"
    if failed_here and report.when in ("call", "teardown"):
        log_at = item.stash.get(_LOG_AT, None)
        if log_at is not None:
            entry["server_output"] = log_at[0].output_since(log_at[1])


_ENTRY = pytest.StashKey[dict]()
_DOWNLOADS = pytest.StashKey[object]()
_TRACE = pytest.StashKey[str]()
_LOG_AT = pytest.StashKey[tuple]()
_INTERMITTENT = pytest.StashKey[str]()
_CPU = pytest.StashKey[dict]()


def _short(report) -> str:
    """The assertion message of a failure, without the traceback."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text.strip()[:2000]


def pytest_sessionfinish(session, exitstatus) -> None:
    config = session.config
    manager = config.stash.get(_MANAGER, None)
    if manager is None:
        return
    t_stop = time.monotonic()
    manager.stop(grace=1.0)
    stop_s = time.monotonic() - t_stop
    cases = config.stash[_RESULTS]
    if not cases:
        return
    meta = dict(config.stash[_META])
    meta["duration_s"] = round(time.monotonic() - meta.pop("t0"), 2)
    meta["base_url"] = config.getoption("base_url")
    info = manager.server_info
    if info is not None:
        meta["versions"], meta["python_executable"] = info["versions"], info["executable"]
    elif manager.adapter is not None:  # the server never answered its probe: the suite's view, said so
        meta["versions"], meta["versions_from"] = manager.adapter.versions(manager.server), "suite"
    path = _results_path(config, manager.adapter, manager.adapter_name, manager.server)
    meta["workers"] = 1
    meta["server_stop_s"] = round(stop_s, 2)
    results.write(path, meta, cases)
    config.stash[_META]["results_path"] = str(path)


def default_results_name(meta: dict) -> str:
    """``<adapter>-<server>.json``; a run of another app (``--app``) gets its own name, never the
    reference's, so a variant's run cannot overwrite the reference's results."""
    name = f"{meta['adapter']}-{meta['server']}"
    if meta.get("app"):
        name += "-app-" + re.sub(r"[^A-Za-z0-9_.-]+", "_", meta["app"])
    return name + ".json"


def _print_report(cases: list[dict], meta: dict, path, write=print, verbose: bool = False) -> None:
    """The end of a run, for a person, in case ids: with ``-v`` every case with its level, outcome and key
    figure; always every failing case with its reason, key figure and the server's own output during that
    case, a table of the expected failures and known intermittents (h2spec's closing list), a loud line
    when the browser case could not run or an expectation was not applied, the counts, the results file."""
    ordered = sorted(cases, key=lambda c: c["id"])
    if verbose:
        write("==== streamspec: every case ====")
        for c in ordered:
            write(f"{c['id']:<44} {c['level']:<6} {c['outcome']:<15} {key_figure(c.get('figures') or {})}".rstrip())
    bad = [c for c in ordered if c["outcome"] in ("fail", "error", "unexpected-pass")]
    if bad:
        write("==== streamspec: failing cases, with the server's output during each ====")
        for c in bad:
            key = key_figure(c.get("figures") or {})
            write(f"{c['id']}  {c['level']}  {c['outcome']}{f'  [{key}]' if key else ''}: {c['reason'][:600]}")
            for line in (c.get("server_output") or "").strip().splitlines()[-25:]:
                write(f"    | {line}")
    known = [c for c in ordered if c["outcome"] in ("expected-fail", "intermittent")]
    if known:
        write(f"==== streamspec: {len(known)} expected failures and known intermittents (the adapter's "
              "expectations) ====")
        for c in known:
            reason = " ".join(c["reason"].split()).removeprefix("expected failure: ")
            write(f"{c['id']:<44} {c['level']:<6} {c['outcome']:<13} {key_figure(c.get('figures') or {}):<22} "
                  f"{reason[:110]}".rstrip())
    for entry in meta.get("expectations_not_applied") or ():
        write(f"streamspec: expectation for {entry['case']} not applied ({entry['why']}): judged as any other case")
    browser = [c for c in cases if c["id"] == "sse.browser-eventsource" and c["outcome"] == "unsupported"]
    if browser:
        write(f"streamspec: WARNING: the browser case did not run: {browser[0]['reason']}")
    counts: dict[str, int] = {}
    for c in cases:
        counts[c["outcome"]] = counts.get(c["outcome"], 0) + 1
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    write(f"streamspec: {meta['adapter']}/{meta['server']}: {summary}")
    write(f"streamspec: results written to {path}")


def pytest_terminal_summary(terminalreporter, config) -> None:
    meta = config.stash.get(_META, None)
    if meta and meta.get("results_path"):
        _print_report(config.stash[_RESULTS], meta, meta["results_path"], terminalreporter.write_line,
                      verbose=config.option.verbose > 0)
