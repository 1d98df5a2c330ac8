"""Shared pieces of the raw-socket reproductions of the frameworks added in issue 13 (Starlette, FastAPI,
Litestar, Quart, Falcon, Tornado, BlackSheep): start a built-in adapter's server with a fixture tree and a
moto store, send hand-written bytes over a plain socket, print what came back. Evidence, not tests: the
scripts are run by hand (``python tests/adapter_repro/<framework>_repro.py [SERVER ...]``)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from streamspec import registry  # noqa: E402
from streamspec.adapter import LaunchOptions, asgi_app_command  # noqa: E402
from streamspec.launch import ServerProcess, free_port  # noqa: E402

HOST = "127.0.0.1"


@contextlib.contextmanager
def serving(adapter_name: str, server: str, app: str | None = None):
    """The adapter's server on a free port, with a fixture tree and a store; yields (port, tree).
    ``app`` (``"module:attr"``, importable from this folder) serves a wrapped ASGI app instead of the
    adapter's own command, e.g. one with an extra diagnostic route."""
    from conformance.store import MotoStore
    from streamspec.files import FILES_ROOT_ENV, build_tree

    adapter = registry.get(adapter_name)
    with tempfile.TemporaryDirectory(prefix=f"{adapter_name}-repro-") as tmp:
        tree = build_tree(Path(tmp) / "tree")
        store = MotoStore(Path(tmp)).start().ready()
        try:
            env = {FILES_ROOT_ENV: str(tree.root), **store.env()}
            os.environ.update(env)
            port = free_port()
            command = asgi_app_command(app) if app else adapter.command
            if app:
                env["PYTHONPATH"] = str(Path(__file__).resolve().parent)
            argv = command(LaunchOptions(HOST, port, server))
            with ServerProcess(argv, HOST, port, name=f"{adapter_name}/{server}", env=env):
                print(f"===== {adapter_name} under {server} =====")
                yield port, tree
        finally:
            store.stop()


def exchange(port: int, raw: bytes, wait: float = 2.0) -> bytes:
    """Send ``raw``; everything that arrives until the peer closes or is quiet for ``wait`` seconds."""
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(raw)
        sock.settimeout(wait)
        data = b""
        try:
            while chunk := sock.recv(65536):
                data += chunk
        except socket.timeout:
            data += b"\n[... quiet for %.1f s, connection still open]" % wait
        except ConnectionResetError:
            data += b"\n[connection reset by the server]"
    return data


def get(port: int, target: str, method: str = "GET", headers: str = "", wait: float = 2.0) -> bytes:
    return exchange(port, f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n".encode(), wait)


def show(label: str, data: bytes, body_bytes: int = 120) -> None:
    head, _, body = data.partition(b"\r\n\r\n")
    print(f"--- {label}\n{head.decode('latin-1')}\n[body: {len(body)} bytes] {body[:body_bytes]!r}\n")


def probe(port: int, request_id: str) -> dict:
    data = get(port, f"/probe?id={request_id}")
    return json.loads(data.partition(b"\r\n\r\n")[2] or b"{}").get("record") or {}


def kinds(port: int, request_id: str) -> list[str]:
    return [e["kind"] for e in probe(port, request_id).get("events", []) if e["kind"] != "chunk"]


def reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0), as a client that vanished."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def leave_idle_stream(port: int, label: str, path: str) -> None:
    """A client that asks for a stream whose producer waits 30 s, reads the head, and leaves (FIN)."""
    rid = f"repro-idle-{time.monotonic_ns()}"
    sep = "&" if "?" in path else "?"
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(f"GET {path}{sep}id={rid} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        sock.settimeout(2)
        with contextlib.suppress(socket.timeout):
            sock.recv(65536)
    time.sleep(2.5)
    print(f"--- {label}: probe 2.5 s after the client left an idle stream: {kinds(port, rid)}\n")


def reset_while_blocked(port: int, label: str, cl: bool = False) -> None:
    """A client that reads nothing of a 256 MiB stream, then resets: does the producer stop?"""
    rid = f"repro-bp-{time.monotonic_ns()}"
    sock = socket.create_connection((HOST, port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(f"GET /stream?id={rid}&n=4096&size=65536{'&cl=1' if cl else ''} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    time.sleep(1.5)
    before = probe(port, f"brief:{rid}").get("chunks")
    reset(sock)
    time.sleep(2.0)
    record = probe(port, f"brief:{rid}")
    print(f"--- {label}: chunks produced before the reset {before}, 2 s after it {record.get('chunks')}, "
          f"events {[e['kind'] for e in record.get('events', [])]}\n")


def error_mid_stream(port: int, label: str) -> None:
    """The producer raises after 300 bytes of a chunked stream: does the body end cleanly?"""
    data = get(port, "/stream?n=6&size=100&raise_after=3", wait=2.0)
    ending = "clean chunked end" if data.endswith(b"0\r\n\r\n") else "no terminating chunk"
    print(f"--- {label}: GET /stream?n=6&size=100&raise_after=3, last bytes {data[-40:]!r} ({ending})\n")


def echo_while_sending(port: int, label: str) -> None:
    """POST /echo with a chunked body of which only the first 16 KiB is sent: does anything come back?"""
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4000\r\n"
                     + b"1" * 16384 + b"\r\n")
        sock.settimeout(3)
        data = b""
        with contextlib.suppress(socket.timeout):
            while chunk := sock.recv(65536):
                data += chunk
    print(f"--- {label}: 16 KiB sent to /echo, 3 s later {len(data)} bytes back: {data[:160]!r}\n")


def upload_cut_short(port: int, label: str) -> None:
    """A Content-Length upload of 128 KiB reset after 64 KiB: does the handler take the short body as whole?"""
    rid = f"repro-up-{time.monotonic_ns()}"
    sock = socket.create_connection((HOST, port))
    sock.sendall(f"POST /upload?id={rid} HTTP/1.1\r\nHost: x\r\nContent-Length: 131072\r\n\r\n".encode() + b"u" * 65536)
    time.sleep(0.5)
    reset(sock)
    time.sleep(1.0)
    print(f"--- {label}: upload reset after 65536 of 131072 bytes, handler record {kinds(port, rid)}\n")
