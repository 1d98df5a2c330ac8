"""Raw-socket reproductions of the aiohttp findings (reports/findings/aiohttp.md), a few lines each.

Run: ``python tests/adapter_repro/aiohttp_repro.py`` from the repository root. It starts the adapter
(``python -m adapters.aiohttp_app``, aiohttp's defaults) as a real process and, for comparison, the same
app under ``web.run_app(..., handler_cancellation=True)``, talks to them over plain sockets and prints
what the wire and the probe showed. Not collected by pytest (the file name does not start with test_):
it is evidence, kept so anyone can re-run it against a newer aiohttp.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from streamspec.launch import ServerProcess, free_port  # noqa: E402

HOST = "127.0.0.1"
CANCELLING = ("import sys; from aiohttp import web; from adapters.aiohttp_app import make_app; "
              "web.run_app(make_app(), host=sys.argv[1], port=int(sys.argv[2]), print=None, "
              "handler_cancellation=True)")


def recv_all(sock: socket.socket, wait: float = 0.5) -> bytes:
    return recv_until_quiet(sock, wait)[0]


def recv_until_quiet(sock: socket.socket, wait: float = 0.5) -> tuple[bytes, bool]:
    """Everything the server sends until it is quiet for ``wait`` s; and whether it closed the connection."""
    sock.settimeout(wait)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except socket.timeout:
        return data, False
    return data, True


def probe_kinds(port: int, request_id: str) -> list[str]:
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(f"GET /probe?id={request_id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        raw = recv_all(sock, 2.0)
    record = json.loads(raw.split(b"\r\n\r\n", 1)[1])["record"]
    return [e["kind"] for e in record["events"]] if record else []


def head_then_get(port: int, query: str = "n=2&size=8") -> None:
    """A1 (chunking.head): HEAD on a StreamResponse route; the next request on the connection reads leaked
    body bytes."""
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(f"HEAD /stream?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                     + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        print(f"[A1] HEAD /stream?{query} + GET /health on one connection ->", recv_all(sock))


def idle_abort(port: int, label: str, path: str = "/stream?n=3&size=64&delay=30000") -> None:
    """A2 (abort.idle.chunked/.length, sse.idle-disconnect): the client closes while the producer sleeps
    30 s before its next chunk (or SSE event)."""
    rid = f"repro-idle-{time.monotonic_ns()}"
    label = f"{label} {path.split('?')[0]}{' cl=1' if 'cl=1' in path else ''}"
    sock = socket.create_connection((HOST, port))
    sock.sendall(f"GET {path}&id={rid} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    print(f"[{label}] head:", recv_all(sock, 1.0)[:60])
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    t_close = time.monotonic()
    for wait in (0.5, 2.0, 5.0):
        time.sleep(max(0.0, t_close + wait - time.monotonic()))
        print(f"[{label}] probe {wait:.1f}s after FIN:", probe_kinds(port, rid))


def error_mid_stream(port: int, raise_as: str, cl: bool) -> None:
    """A3 (errors.http-error-truncated.chunked/.length): the producer raises web.HTTPServiceUnavailable
    before chunk 3 (raise_as=http), after 3 x 100 bytes went out. aiohttp writes a whole second response
    (status line, headers, error text) onto the connection after the partial body, and keeps the
    connection open: a follow-up request on it is answered. With a plain exception (raise_as=exception,
    errors.truncated.*, which passes) the connection is closed right after the 300 bytes."""
    rid = f"repro-err-{time.monotonic_ns()}"
    query = f"n=6&size=100&delay=20&raise_after=3&raise_as={raise_as}{'&cl=1' if cl else ''}&id={rid}"
    label = f"[A3 {raise_as} {'length' if cl else 'chunked'}]"
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(f"GET /stream?{query} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data, closed = recv_until_quiet(sock, 1.0)
        head, _, body = data.partition(b"\r\n\r\n")
        framed = 300 if cl else 3 * len(b"64\r\n" + b"x" * 100 + b"\r\n")  # the 3 chunks produced
        lines = head.split(b"\r\n")
        framing = [h for h in lines if h.lower().startswith((b"content-length", b"transfer-encoding"))]
        print(f"{label} head: {lines[0]!r} {framing}")
        print(f"{label} {len(body)} body bytes; after the 3 produced chunks ({framed} bytes on the wire):",
              body[framed:])
        print(f"{label} connection closed by the server within 1 s: {closed}")
        if not closed:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            print(f"{label} a GET /health sent on the same connection ->", recv_all(sock))
    print(f"{label} probe:", probe_kinds(port, rid))


def main() -> int:
    port = free_port()
    with ServerProcess([sys.executable, "-m", "adapters.aiohttp_app", "--host", HOST, "--port", str(port)],
                       HOST, port, name="aiohttp-default"):
        head_then_get(port)
        head_then_get(port, "n=2&size=8&cl=1")
        idle_abort(port, "default")
        idle_abort(port, "default", "/stream?n=3&size=64&delay=30000&cl=1")
        idle_abort(port, "default", "/sse?n=3&interval=30000")
        for cl in (False, True):
            error_mid_stream(port, "http", cl)
            error_mid_stream(port, "exception", cl)
    port = free_port()
    with ServerProcess([sys.executable, "-c", CANCELLING, HOST, str(port)], HOST, port,
                       name="aiohttp-handler-cancellation"):
        idle_abort(port, "handler_cancellation=True")
        idle_abort(port, "handler_cancellation=True", "/sse?n=3&interval=30000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
