"""Proof that the load gate has teeth: a short ``slow-clients`` run against a server that buffers
without bound (``tests/variants/unbounded_buffer.py``) exits non-zero naming the RSS threshold, and the
same run against the correct reference exits 0.

The runs are real: ``locust -f loadtests`` as a subprocess, which starts the server itself through the
suite's launcher. Each is bounded (8 users, 12 s of load plus start and settle: under 30 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = ["-u", "8", "-r", "8", "-t", "12s", "--baseline", "3", "--settle", "2"]


def run_gate(tmp_path: Path, *extra: str) -> tuple[int, str, dict]:
    results = tmp_path / "load.json"
    cmd = [sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests"), "--headless", "--only-summary",
           "--profile", "slow-clients", *RUN, "--results", str(results), *extra]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    output = proc.stdout + proc.stderr
    doc = json.loads(results.read_text()) if results.exists() else {}
    return proc.returncode, output, doc


def broken(doc: dict) -> set[str]:
    return {v["threshold"] for v in doc.get("gate", []) if v["status"] == "FAIL"}


@pytest.mark.timeout(90)
def test_gate_fails_a_server_that_buffers_without_bound(tmp_path):
    code, output, doc = run_gate(tmp_path, "--app", "tests.variants.unbounded_buffer:app")
    assert code == 3, f"exit code {code}, expected 3 (threshold broken)\n{output[-3000:]}"
    assert "rss_per_stream_mib" in broken(doc), f"broken thresholds: {broken(doc)}\n{output[-3000:]}"
    assert "streamspec load gate: FAILED: " in output and "rss_per_stream_mib" in output.split("FAILED: ")[1]


@pytest.mark.timeout(90)
def test_gate_passes_the_reference(tmp_path):
    code, output, doc = run_gate(tmp_path)
    assert code == 0, f"exit code {code}\n{output[-3000:]}"
    assert not broken(doc)
    assert doc["figures"]["rss_per_stream_mib"] is not None, "server memory was not measured"
    assert doc["figures"]["bytes_verified"] > 0 and doc["figures"]["lost_bytes"] == 0
