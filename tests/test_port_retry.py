"""A port the suite picked itself may be taken by a server starting beside it (six parts, three xdist
workers): the launcher then picks another and starts again; a port the user chose is never replaced."""

from __future__ import annotations

import socket

import pytest

from conformance import target as target_module
from streamspec import launch, registry
from streamspec.adapter import LaunchOptions
from streamspec.launch import PortTaken, free_port


@pytest.fixture
def taken_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_picked_port_that_is_taken_is_picked_again(monkeypatch, taken_port):
    picks = iter([taken_port])
    monkeypatch.setattr(launch, "free_port", lambda host="127.0.0.1": next(picks, None) or free_port(host))
    manager = target_module.ServerManager(registry.get("reference"), "reference", "uvicorn", None, None, None, ())
    try:
        tgt = manager.ensure()
        assert tgt.port != taken_port
        assert tgt.probe.summary()["pid"] in tgt.process.pids()
    finally:
        manager.stop(grace=1.0)


def test_a_port_the_user_chose_is_not_replaced(taken_port):
    manager = target_module.ServerManager(registry.get("reference"), "reference", "uvicorn", None, taken_port,
                                          None, ())
    with pytest.raises(PortTaken, match=f"port {taken_port} on 127.0.0.1 is in use"):
        manager.ensure()
    manager.stop(grace=1.0)


def test_a_server_leaves_no_output_file_whether_it_started_or_not(taken_port, tmp_path, monkeypatch):
    """Each ServerProcess keeps the server's output in a temporary file with no name on disk, so that no way
    of ending (a port that was taken, a stop, a SIGKILL of the suite: tests/test_hygiene.py) leaves one
    behind; CI runs had left hundreds of empty ones in /tmp. (That the output is still read: the server's
    output in failures, tests/test_hygiene.py.)"""
    monkeypatch.setattr(launch.tempfile, "tempdir", str(tmp_path))
    never = launch.ServerProcess(["true"], "127.0.0.1", taken_port, name="never-started")
    with pytest.raises(PortTaken):
        never.start()
    never.stop()
    assert list(tmp_path.glob("streamspec-*.log")) == []
    ran = launch.start_on_free_port(lambda port: registry.get("reference").command(
        LaunchOptions("127.0.0.1", port, "uvicorn")), name="ran")
    assert list(tmp_path.glob("streamspec-*.log")) == []
    ran.stop()
    assert list(tmp_path.glob("streamspec-*.log")) == []
