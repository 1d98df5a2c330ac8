"""Adapters are pluggable: a third-party package is found through the ``streamspec.adapters`` entry
point, and ``--adapter=external`` judges a server somebody else started."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from streamspec.adapter import LaunchOptions
from streamspec.launch import ServerProcess, free_port
from streamspec.registry import get
from tests.suite_runner import ROOT, run_suite

THIRD_PARTY_MODULE = '''
"""A throwaway third-party adapter: its own module, its own server command, declared as data."""
import sys
from streamspec.adapter import Adapter, python_module_command

ADAPTER = Adapter(
    name="acme",
    description="ACME's in-house server (test fixture)",
    command=python_module_command("acme_streamspec.serve"),
    packages=("uvicorn",),
    modules=("uvicorn",),
    idiom="raw ASGI app of its own",
)

GHOST = Adapter(
    name="ghost",
    description="an adapter whose framework is not installed",
    command=python_module_command("ghost_framework.serve"),
    modules=("ghost_framework",),
    install_hint="pip install ghost-framework",
)
'''

THIRD_PARTY_SERVER = '''
"""Serve a tiny ASGI app of ACME's own that delegates to the reference semantics."""
import argparse
import uvicorn
from reference.app import make_app

parser = argparse.ArgumentParser()
parser.add_argument("--host")
parser.add_argument("--port", type=int)
args = parser.parse_args()
uvicorn.run(make_app(), host=args.host, port=args.port, http="h11", log_level="warning")
'''


def make_third_party_package(site: Path) -> None:
    """A package plus a .dist-info with an entry_points.txt: what ``pip install`` would leave behind."""
    pkg = site / "acme_streamspec"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(THIRD_PARTY_MODULE))
    (pkg / "serve.py").write_text(textwrap.dedent(THIRD_PARTY_SERVER))
    info = site / "acme_streamspec-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-streamspec\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[streamspec.adapters]\nacme = acme_streamspec:ADAPTER\nghost = acme_streamspec:GHOST\n")


def third_party_env(tmp_path: Path) -> dict:
    site = tmp_path / "site"
    make_third_party_package(site)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}


def test_third_party_adapter_is_found_through_its_entry_point(tmp_path):
    run = run_suite(tmp_path / "r.json", "--adapter=acme", "--case=chunking.*", env=third_party_env(tmp_path))
    assert run.returncode == 0, run.output
    assert run.results["adapter"] == "acme"
    assert run.results["summary"]["pass"] >= 8


def test_missing_framework_is_one_line_naming_the_install(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "conformance", "--adapter=ghost"], cwd=ROOT,
                          capture_output=True, text=True, env=third_party_env(tmp_path), timeout=60)
    assert proc.returncode == 4
    assert proc.stderr.strip() == ("ERROR: adapter ghost needs ghost_framework, which is not installed: "
                                   "pip install ghost-framework")


def test_unknown_adapter_lists_entry_point_adapters(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "conformance", "--adapter=nosuch"], cwd=ROOT,
                          capture_output=True, text=True, env=third_party_env(tmp_path), timeout=60)
    assert proc.returncode == 4 and "acme" in proc.stderr and "ghost" in proc.stderr


def test_external_runs_against_a_server_started_by_hand(tmp_path):
    port = free_port()
    command = get("reference").command(LaunchOptions("127.0.0.1", port, "uvicorn"))
    with ServerProcess(command, "127.0.0.1", port, name="by-hand"):
        run = run_suite(tmp_path / "r.json", "--adapter=external", f"--base-url=http://127.0.0.1:{port}")
    # An external server has no expectations file: uvicorn's own parser findings (reports/findings/hostile.md
    # H1, H2) fail as they are, and nothing else may.
    from tests.test_hostile_lenient import FINDINGS

    failed = {c["id"] for c in run.results["cases"] if c["outcome"] in ("fail", "error")}
    assert failed == FINDINGS["uvicorn"], run.output
    unsupported = {c["id"]: c["reason"] for c in run.results["cases"] if c["outcome"] == "unsupported"}
    # what needs the server's process (its descriptors) or the run's fixture tree and store: the downloads
    local = {"abort.healthy-after-100.chunked", "abort.healthy-after-100.length", "upload.memory"}
    local |= {c["id"] for c in run.results["cases"] if c["id"].startswith(("files.", "objects."))}
    assert set(unsupported) == local, unsupported
    assert all("not started by the suite" in reason or "fixture tree exists only" in reason
               for reason in unsupported.values()), unsupported
    assert run.results["summary"]["fail"] == len(FINDINGS["uvicorn"])


def test_capability_names_are_checked():
    """A misspelt capability would silently never make a case unsupported, so it is rejected."""
    import pytest

    from conformance.cases import case
    from streamspec.adapter import Adapter

    with pytest.raises(ValueError, match="unknown capabilities"):
        Adapter(name="typo", description="", command=lambda o: [], lacks={"local-proces": "x"})
    with pytest.raises(ValueError, match="unknown capabilities"):
        case("x.y", "MUST", "none", requires=("sse-events",))
