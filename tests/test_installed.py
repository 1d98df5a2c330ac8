"""The wheel, installed into a fresh virtual environment outside the repository, is a working suite: the
plugin registers itself (``pytest11``), ``streamspec run`` finds the installed cases, results go to
``./streamspec-results/`` in the current directory, ``streamspec load`` runs a short load test, and
site-packages holds ``streamspec`` alone (no ``conformance``, ``reference`` or ``adapters``), and an
upgrade is gated from there with ``streamspec compare`` (the README's recipe, with h11 0.14.0 and 0.16.0
as in ``tests/test_upgrade_recipe.py``).

The new environment gets the wheel with ``--no-deps``; its dependencies come from this environment's
site-packages through a ``.pth`` line (installing uvicorn, pytest, locust... again from the index would
cost a minute per CI run and test pip, not streamspec). Nothing of the checkout is on its path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .side_env import THIS_SITE, build_wheel, purelib, side_env
from .suite_runner import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with the built wheel installed; returns its bin directory."""
    tmp = tmp_path_factory.mktemp("installed")
    wheel = build_wheel(ROOT, tmp / "wheel")
    return side_env(tmp / "venv", [str(wheel)], [THIS_SITE], no_index=True).parent


def run_in(cwd: Path, argv: list[str], timeout: float) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_only_streamspec_is_installed_and_nothing_comes_from_the_checkout(installed, tmp_path):
    code = ("import importlib.util as u, streamspec.conformance.plugin as p; print(p.__file__); "
            "print([n for n in ('conformance', 'reference', 'adapters', 'loadtests') if u.find_spec(n)])")
    proc = run_in(tmp_path, [str(installed / "python"), "-c", code], 60)
    assert proc.returncode == 0, proc.stderr
    plugin_file, tops = proc.stdout.splitlines()
    assert str(installed.parent) in plugin_file and str(ROOT) not in plugin_file
    assert tops == "[]"


@pytest.mark.timeout(240)
def test_streamspec_run_from_the_wheel_writes_results_in_the_current_directory(installed, tmp_path):
    proc = run_in(tmp_path, [str(installed / "streamspec"), "run", "-q", "--case=chunking.*", "--case=abort.idle.*",
                             "--case=upload.exact.*", "--case=sse.framing"], 200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = tmp_path / "streamspec-results" / "runs" / "reference-uvicorn.json"
    doc = json.loads(results.read_text())
    assert {c["outcome"] for c in doc["cases"]} == {"pass"} and len(doc["cases"]) == 13
    assert doc["python_executable"] == str(installed / "python")  # the server ran from the new environment
    assert f"results written to {results}" in proc.stdout


@pytest.mark.timeout(120)
def test_streamspec_load_from_the_wheel(installed, tmp_path):
    proc = run_in(tmp_path, [str(installed / "streamspec"), "load", "--headless", "--only-summary", "--profile",
                             "slow-clients", "-u", "4", "-r", "4", "-t", "5s", "--baseline", "2", "--settle", "1"], 100)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    written = list((tmp_path / "streamspec-results" / "load").glob("*.json"))
    assert len(written) == 1 and json.loads(written[0].read_text())["gate"]


@pytest.mark.timeout(240)
def test_the_installed_wheel_gates_an_upgrade_with_compare(installed, tmp_path):
    """The recipe from the installed command only: a run as installed (h11 0.16.0), a second environment
    whose server sees h11 0.14.0 and the installed streamspec, a run with ``--python`` there, and
    ``streamspec compare`` naming the regression (CVE-2025-43859) with exit status 1."""
    other = side_env(tmp_path / "other", ["h11==0.14.0"], [purelib(installed / "python"), THIS_SITE])
    work = tmp_path / "work"
    work.mkdir()
    cases = ["--case=hostile.chunk-data-no-crlf", "--case=chunking.head", "--ignore-expectations", "-q"]
    pinned = run_in(work, [str(installed / "streamspec"), "run", *cases, "--results=pinned.json"], 120)
    assert pinned.returncode == 0, pinned.stdout[-2000:]
    tried = run_in(work, [str(installed / "streamspec"), "run", *cases, "--results=other.json",
                          f"--python={other}"], 120)
    assert tried.returncode != 0, tried.stdout[-2000:]  # the old parser fails the case
    gate = run_in(work, [str(installed / "streamspec"), "compare", "pinned.json", "other.json"], 60)
    assert gate.returncode == 1, gate.stdout
    assert "h11 0.16.0 -> 0.14.0" in gate.stdout
    assert "hostile.chunk-data-no-crlf" in gate.stdout.split("NEW FAILURES (1)")[1]


@pytest.mark.timeout(300)
def test_the_worked_example_adapter_installs_and_runs_end_to_end(installed, tmp_path):
    """ADAPTERS.md's worked example (``examples/adapter-package``) built as a wheel and installed beside
    the installed streamspec: its entry point names it, the suite's families that it serves and lacks run
    against it from outside the repository, and its run is green against its own expectations file (shipped in its package); the
    capabilities it declares lacked are ``unsupported`` with its reason, never passed."""
    wheel = build_wheel(ROOT / "examples" / "adapter-package", tmp_path / "wheel")
    python = side_env(tmp_path / "venv", [str(wheel)], [purelib(installed / "python"), THIS_SITE], no_index=True)
    work = tmp_path / "work"
    work.mkdir()
    listed = run_in(work, [str(python), "-m", "streamspec", "run", "--adapter=nosuch"], 60)
    assert "example-starlette" in listed.stderr, listed.stderr
    # the families it serves and the ones it lacks (hostile framing and the timing-heavy abort and
    # backpressure families are judged on the built-in starlette adapter: CI's time is the limit here)
    families = ["--case=chunking.*", "--case=errors.*", "--case=sse.*", "--case=upload.*", "--case=echo.*",
                "--case=files.*", "--case=objects.*"]
    proc = run_in(work, [str(python), "-m", "streamspec", "run", "--adapter=example-starlette", "-q", *families], 280)
    results = work / "streamspec-results" / "runs" / "example-starlette-uvicorn.json"
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    doc = json.loads(results.read_text())
    assert doc["versions"]["streamspec-example-adapter"] == "0.1.0"
    outcomes = {c["id"]: c for c in doc["cases"]}
    assert len(outcomes) > 60 and doc["summary"]["pass"] > 30
    lacked = [c for c in outcomes.values() if c["id"].startswith(("files.", "objects."))]
    assert lacked and all(c["outcome"] == "unsupported" and "serves no downloads" in c["reason"] for c in lacked)
    assert all(c["outcome"] != "unsupported" for i, c in outcomes.items() if i.startswith(("upload.", "echo.")))
