"""Bad input gets one clear line and a non-zero exit; no server process outlives any run."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.suite_runner import ROOT, run_suite


# Every suite this module starts carries this token in its environment, and so do the servers it
# launches (they inherit it): a process with the token that outlives its test is our orphan, and
# servers of other runs on the same machine are never mistaken for ours.
TOKEN_VAR = "STREAMSPEC_HYGIENE_TOKEN"
TOKEN = f"hygiene-{os.getpid()}"
ENV = {**os.environ, TOKEN_VAR: TOKEN}


def streamspec_servers() -> list[psutil.Process]:
    """Server processes (reference, adapters, variants, the S3 store) started by this module's suite runs."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            cmd = " ".join(proc.info["cmdline"] or [])
            ours = any(f"-m {m}" in cmd for m in ("streamspec.reference", "streamspec.adapters.", "reference",
                                                       "adapters.", "moto.server"))
            if ours and proc.environ().get(TOKEN_VAR) == TOKEN:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


@pytest.fixture(autouse=True)
def no_orphans():
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = streamspec_servers()
        if not left:
            return
        time.sleep(0.1)
    raise AssertionError(f"server processes left behind: {[p.info['cmdline'] for p in left]}")


def pytest_conformance(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, env=ENV)


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]


def test_unknown_adapter_is_a_usage_error():
    proc = pytest_conformance("--adapter=nosuch")
    assert proc.returncode == 4
    assert "ERROR: unknown adapter 'nosuch'; valid adapters: reference" in proc.stderr
    assert len(error_lines(proc)) == 1, proc.stderr


def test_unknown_server_is_a_usage_error():
    proc = pytest_conformance("--server=gunicorn")
    assert proc.returncode == 4
    assert "unknown server 'gunicorn' for adapter reference; valid servers: uvicorn, hypercorn, granian" in proc.stderr


def test_external_needs_base_url():
    proc = pytest_conformance("--adapter=external")
    assert proc.returncode == 4 and "--base-url" in proc.stderr


def test_port_in_use_is_one_clear_line():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        proc = pytest_conformance(f"--port={port}", "--case=chunking.head")
    assert proc.returncode != 0
    assert f"port {port} on 127.0.0.1 is in use" in proc.stdout + proc.stderr


def test_server_that_dies_on_start_stops_the_run_with_its_output(tmp_path):
    proc = pytest_conformance("--app=tests.nonexistent_module:app", "--case=chunking.head")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert "streamspec: reference/uvicorn exited with code" in out and "before it was ready" in out
    assert "No module named 'tests.nonexistent_module'" in out  # the server's own stderr tail


def test_server_without_probe_is_named_at_once():
    """Our own process answers on the port, but /probe is 404: exit 3 with that said, within seconds."""
    started = time.monotonic()
    proc = pytest_conformance("--app=tests.no_probe_app:app", "--case=chunking.head")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert "answers GET /probe with 404: an adapter must serve /probe and /health" in out
    assert time.monotonic() - started < 25  # not the 30 s start bound


def test_server_that_dies_mid_run_fails_that_case_and_the_run_goes_on(tmp_path):
    """A server killed by a case's traffic fails that case (a MUST-level defect of the server), with the
    server's own last words in the results; the next case gets a fresh server."""
    run = run_suite(tmp_path / "r.json", "--app=tests.crashing_app:app", "--case=chunking.*",
                    "--case=errors.fail-before-start", env=ENV)
    crashed = [c for c in run.results["cases"] if c["outcome"] == "fail"]
    assert [c["id"] for c in crashed] == ["errors.fail-before-start"], run.output
    assert "server died" in crashed[0]["reason"], crashed[0]
    assert "deliberate crash" in crashed[0]["server_output"], crashed[0]
    later = [c for c in run.results["cases"] if c["id"].startswith("chunking.")]
    assert later and all(c["outcome"] == "pass" for c in later), "the run did not go on with a fresh server"


def test_server_that_goes_deaf_is_aborted_for_its_stacks_and_replaced(tmp_path):
    """A server whose loop a case's request stops for good fails that case; the results say it stopped
    answering afterwards and quote where it was stuck (its threads' stacks, printed when the suite aborted
    it); the next case gets a fresh server. The abort leaves no core file, even where core dumps are on."""
    cores_before = set(ROOT.glob("core*"))
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))  # the suite must turn core files off itself
    try:
        run = run_suite(tmp_path / "r.json", "--app=tests.deaf_app:app", "--case=errors.fail-before-start",
                        "--case=chunking.*", env=ENV)
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, (soft, hard))
    assert set(ROOT.glob("core*")) == cores_before, "the aborted server left a core file in the checkout"
    failed = [c for c in run.results["cases"] if c["outcome"] == "fail"]
    assert [c["id"] for c in failed] == ["errors.fail-before-start"], run.output
    assert "stopped answering" in failed[0]["figures"]["afterwards"], failed[0]
    assert "block_the_loop_on_purpose" in failed[0]["server_output"], failed[0]
    later = [c for c in run.results["cases"] if c["id"].startswith("chunking.")]
    assert later and all(c["outcome"] == "pass" for c in later), "the run did not go on with a fresh server"


@pytest.mark.parametrize("app,busy", [("tests.busy_app:app", True), ("tests.deaf_app:app", False)])
def test_a_busy_server_is_waited_for_and_a_deaf_one_is_not(app, busy):
    """After a case, a server whose loop is computing (it uses a CPU) is waited for and judged not hung, with
    how late it answered; one whose loop waits on nothing (no CPU) is judged hung after the first 2 s."""
    from conformance.target import ServerManager
    from streamspec import registry

    manager = ServerManager(registry.get("reference"), "reference", "uvicorn", None, None, app, ())
    target = manager.ensure()
    try:
        with socket.create_connection(("127.0.0.1", target.port)) as sock:  # sent, never read
            sock.sendall(b"GET /stream?fail_start=1 HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.3)
            t0 = time.monotonic()
            hung = manager.unresponsive()
            took = time.monotonic() - t0
    finally:
        manager.stop(grace=1.0)
    if busy:
        assert hung is None and manager.late is not None and 2.0 <= manager.late < 8.0, (hung, manager.late)
    else:
        assert hung is not None and "stopped answering" in hung and took < 4.0, (hung, took)


def test_an_unanswered_probe_is_the_servers_failure_in_a_sentence():
    """A probe request the server does not answer in time is an ``AssertionError`` naming the request and
    the bound (so a case an adapter is expected to fail still counts as that failure), not httpx's bare
    ``ReadTimeout``, which the results would count as a regression of any adapter."""
    from conformance.probe_client import ProbeClient, ProbeUnanswered
    from streamspec import http_client, registry
    from streamspec.adapter import LaunchOptions
    from streamspec.launch import start_on_free_port

    adapter = registry.get("reference")
    process = start_on_free_port(lambda port: adapter.command(
        LaunchOptions("127.0.0.1", port, "uvicorn", app="tests.deaf_app:app")), name="deaf")
    probe = ProbeClient(f"http://127.0.0.1:{process.port}", timeout=1.0)
    try:
        assert "now" in probe.summary()
        with pytest.raises(httpx.TimeoutException):  # this request stops the server's loop for good
            http_client.get(f"http://127.0.0.1:{process.port}/stream?fail_start=1", timeout=0.5)
        with pytest.raises(ProbeUnanswered, match=r"did not answer GET /probe\?id=x within 1 s"):
            probe.record("x")
    finally:
        probe.close()
        process.stop(grace=1.0)


def test_ctrl_c_leaves_no_server():
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "conformance", "-q", "--case=abort.idle",
                             "--case=backpressure.*"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=ENV)
    deadline = time.monotonic() + 20
    while not streamspec_servers():
        assert time.monotonic() < deadline, "the suite never started a server"
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    # the autouse fixture asserts that nothing is left


def test_killed_suite_leaves_no_server(tmp_path):
    """Even SIGKILL of the suite cannot orphan the server (PR_SET_PDEATHSIG), nor leave the servers' output
    files in the temporary directory (they have no name there: ``ServerProcess.start``)."""
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "conformance", "-q", "--case=backpressure.*"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**ENV, "TMPDIR": str(tmp_path)})
    deadline = time.monotonic() + 20
    while not streamspec_servers():
        assert time.monotonic() < deadline, "the suite never started a server"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert not list(tmp_path.glob("streamspec-*.log")), "the killed suite left its servers' output files"


def test_files_and_store_are_removed_after_the_run(tmp_path):
    """A run that made its own fixture tree and S3 store (nothing inherited) removes the tree and stops
    the store when it ends; the autouse fixture checks no moto process is left."""
    env = {k: v for k, v in ENV.items() if k not in ("STREAMSPEC_FILES_ROOT", "STREAMSPEC_STORE_UPSTREAM",
                                                     "STREAMSPEC_FILES_DIR", "STREAMSPEC_S3_ENDPOINT")}
    env["TMPDIR"] = str(tmp_path)
    run = run_suite(tmp_path / "results.json", "--case=objects.get", "--case=files.get.native", env=env)
    assert run.returncode == 0, run.output
    assert {c["id"]: c["outcome"] for c in run.results["cases"]} == {"objects.get": "pass", "files.get.native": "pass"}
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith("streamspec-files-")]
    assert not left, f"fixture trees left behind: {left}"


def test_browser_case_leaves_nothing_in_the_temporary_directory(tmp_path):
    """Chromium and Playwright's driver write their singleton sockets and profiles to ``$TMPDIR``; a browser
    killed at the end of the case never removes them (hundreds of directories in ``/tmp`` after a few
    hundred runs). The whole run, browser case included, leaves the temporary directory as it found it."""
    pytest.importorskip("playwright.sync_api", reason="pip install -e '.[browser]'")
    # Short on purpose: Chromium's socket path ($TMPDIR/.../SingletonSocket) must fit in 108 bytes.
    private = Path(tempfile.mkdtemp(prefix="ssb-"))
    try:
        run = run_suite(tmp_path / "results.json", "--case=sse.browser-eventsource", "--require-browser",
                        env={**ENV, "TMPDIR": str(private)})
        assert run.returncode == 0, run.output
        assert {c["id"]: c["outcome"] for c in run.results["cases"]} == {"sse.browser-eventsource": "pass"}
        # The bytecode cache is kept there on purpose (streamspec/launch.py, child_env).
        left = sorted(p.name for p in private.iterdir() if not p.name.startswith("streamspec-pycache-"))
        assert not left, f"the run left these in its temporary directory: {left}"
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _documented_modules() -> list[str]:
    """The project's modules that the README and the guides tell users to run with ``python -m``."""
    import re

    docs = [ROOT / "README.md", ROOT / "ADAPTERS.md", ROOT / "loadtests" / "README.md"]
    found = set()
    for doc in docs:
        found.update(re.findall(r"python\s+-m\s+((?:conformance|reference|adapters|loadtests|streamspec)[\w.]*)",
                                doc.read_text()))
    return sorted(found)


@pytest.mark.parametrize("module", _documented_modules())
def test_documented_module_answers_help(module, tmp_path):
    """Each ``python -m X`` of the docs, run from the checkout as written, answers ``--help`` with its usage
    and creates nothing (``python -m conformance.bench`` once failed at import under its short name, and
    ``python -m conformance.store --help`` built a fixture tree in a directory named ``--help``)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", module, "--help"], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0 and "usage" in run.stdout.lower(), f"{module}: {run.returncode}\n{run.stdout}{run.stderr}"
    assert not list(cwd.iterdir()), f"{module} --help created {sorted(p.name for p in cwd.iterdir())}"
