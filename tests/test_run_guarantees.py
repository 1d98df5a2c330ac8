"""Run-level guarantees of the sharper-verdicts issue: an external URL is checked once up front, the
versions in a results file come from the server's own interpreter, a run of another app never takes
the reference's results name, and the suite never waits on a silent external server."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from tests.suite_runner import ROOT, run_suite


def test_external_url_that_never_answers_is_one_line_and_exit_3():
    with socket.socket() as hole:  # accepts connections (the kernel does) and never answers
        hole.bind(("127.0.0.1", 0))
        hole.listen(16)
        port = hole.getsockname()[1]
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", "--adapter=external",
                               f"--base-url=http://127.0.0.1:{port}"], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        wall = time.monotonic() - t0
    out = proc.stdout + proc.stderr
    assert proc.returncode == 3, out
    assert f"http://127.0.0.1:{port} did not answer /health and /probe within 5 s" in out
    assert wall < 20, f"took {wall:.1f} s"


def test_external_url_that_is_not_the_contract_is_one_line_and_exit_3(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", "--adapter=external",
                           "--base-url=http://127.0.0.1:1"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3 and "does not serve the contract" in proc.stdout + proc.stderr


def test_versions_come_from_the_servers_interpreter(tmp_path):
    run = run_suite(tmp_path / "r.json", "--workers=1", "--case=chunking.head", f"--python={sys.executable}")
    assert run.returncode == 0, run.output
    doc = run.results
    assert doc["versions_from"] == "server" and doc["python_executable"] == sys.executable
    assert doc["versions"]["python"] == sys.version.split()[0] and "uvicorn" in doc["versions"]


def test_an_app_run_gets_its_own_results_name():
    expected = ROOT / "reports" / "runs" / "reference-uvicorn-app-tests.variants.head_not_allowed_app.json"
    expected.unlink(missing_ok=True)
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "conformance", "-q", "--case=chunking.head",
                               "--app=tests.variants.head_not_allowed:app"], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode != 0  # the variant fails chunking.head
        doc = json.loads(expected.read_text())
        assert doc["app"] == "tests.variants.head_not_allowed:app"
    finally:
        expected.unlink(missing_ok=True)


def test_a_case_that_leaves_producers_running_gets_the_next_case_a_fresh_server(tmp_path):
    """A server that never stops the producer of an aborted stream (the ``ignores_disconnect`` variant)
    would carry it into the next case of the same part, loading the server for a case that has nothing
    to do with aborts (blacksheep.md BS8). The aborted case's figures say the producer was left running,
    and the server is restarted; on the reference no case leaves anything (tests/test_teeth.py)."""
    run = run_suite(tmp_path / "r.json", "--adapter=reference", "--app=tests.variants.ignores_disconnect:app",
                    "--ignore-expectations", "--workers=1", "--case=abort.stops-producer.chunked",
                    "--case=chunking.reassembly")
    cases = {c["id"]: c for c in run.results["cases"]}
    aborted, after = cases["abort.stops-producer.chunked"], cases["chunking.reassembly"]
    assert aborted["outcome"] == "fail", aborted
    assert "still running 0.5 s after this case ended: the server was restarted" in aborted["figures"]["leftover"]
    assert after["outcome"] == "pass" and "leftover" not in after["figures"], after


def test_a_file_left_open_after_a_case_gets_the_next_case_a_fresh_server(tmp_path):
    """The same for a download that keeps its file open after the client left (``leaks_file_on_abort``):
    the server reading on through a 256 MiB file for nobody would load the next case."""
    run = run_suite(tmp_path / "r.json", "--adapter=reference", "--app=tests.variants.leaks_file_on_abort:app",
                    "--ignore-expectations", "--workers=1", "--case=files.abort.streamed")
    aborted = {c["id"]: c for c in run.results["cases"]}["files.abort.streamed"]
    assert aborted["outcome"] == "fail", aborted
    assert "fixture file(s) still open" in aborted["figures"]["leftover"], aborted["figures"]
