"""The upgrade recipe of the README, tried for real: a second environment with another release of one
component under the server, a run of the suite with ``--python`` pointing at it, and ``streamspec compare``
naming what changed.

The pair is h11 0.14.0 and 0.16.0, the HTTP/1.1 parser under uvicorn's default protocol: 0.16.0 fixed
CVE-2025-43859 (chunk data not followed by CRLF was accepted), which ``hostile.chunk-data-no-crlf`` checks.
Going back to 0.14.0 must be a named regression (exit 1); going forward, a named fix (exit 0). The
second environment holds only h11 0.14.0 and takes everything else from this one through a ``.pth`` line.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from .side_env import THIS_SITE, side_env
from .suite_runner import ROOT, run_suite

CASES = ("hostile.chunk-data-no-crlf", "chunking.head", "upload.exact.chunked")


@pytest.fixture(scope="module")
def old_h11(tmp_path_factory):
    return side_env(tmp_path_factory.mktemp("h11-0.14") / "venv", ["h11==0.14.0"], [THIS_SITE])


def compare(base, candidate):
    return subprocess.run([sys.executable, "-m", "streamspec", "compare", str(base), str(candidate)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.timeout(240)
def test_downgrading_h11_is_a_named_regression_and_upgrading_a_named_fix(old_h11, tmp_path):
    new = run_suite(tmp_path / "new.json", "--ignore-expectations", select=CASES, timeout=120)
    old = run_suite(tmp_path / "old.json", "--ignore-expectations", f"--python={old_h11}", select=CASES, timeout=120)
    assert new.results["versions"]["h11"] == "0.16.0" and old.results["versions"]["h11"] == "0.14.0"
    assert new.failed == set(), new.output
    assert old.failed == {"hostile.chunk-data-no-crlf"}, old.output  # the CVE, and nothing else
    down = compare(tmp_path / "new.json", tmp_path / "old.json")
    assert down.returncode == 1, down.stdout
    assert "h11 0.16.0 -> 0.14.0" in down.stdout and "NEW FAILURES (1)" in down.stdout
    assert "hostile.chunk-data-no-crlf" in down.stdout.split("NEW FAILURES")[1]
    up = compare(tmp_path / "old.json", tmp_path / "new.json")
    assert up.returncode == 0, up.stdout
    assert "fixed (1)" in up.stdout and "hostile.chunk-data-no-crlf" in up.stdout.split("fixed (1)")[1]
