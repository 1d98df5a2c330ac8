"""Raw-socket reproduction of the ``100 Continue`` before a 413 observation (``upload.expect-reject``
passes: RFC 9110 allows it; reports/findings/uploads.md), for any adapter: aiohttp 3.14.5, Sanic 25.12.1,
socketify 0.0.31 and hypercorn 0.18.0 write the 100 before the handler decides.

Why raw sockets: the observation is about which bytes the server writes before it reads a request body
(``100 Continue`` or not), which an HTTP client library hides. It prints what arrived and when, relative
to the moment the request was sent.

    python tests/adapter_repro/expect_continue_repro.py --adapter aiohttp            # starts the adapter itself
    python tests/adapter_repro/expect_continue_repro.py --adapter sanic --port N     # against one already running
"""

from __future__ import annotations

import argparse
import socket
import time

from streamspec import registry
from streamspec.adapter import LaunchOptions
from streamspec.launch import ServerProcess, free_port

BODY = b"x" * 65536


def collect(sock: socket.socket, t0: float, wait: float) -> list[tuple[float, bytes]]:
    """(seconds since t0, bytes) as they arrive, until the peer closes or ``wait`` passes quietly."""
    pieces = []
    sock.settimeout(wait)
    try:
        while data := sock.recv(65536):
            pieces.append((time.monotonic() - t0, data))
        pieces.append((time.monotonic() - t0, b"<peer closed>"))
    except TimeoutError:
        pieces.append((time.monotonic() - t0, b"<still open, silent>"))
    except OSError as exc:
        pieces.append((time.monotonic() - t0, f"<{type(exc).__name__}>".encode()))
    return pieces


def show(title: str, pieces) -> None:
    print(f"--- {title}")
    for t, data in pieces:
        print(f"  +{t * 1000:7.1f} ms  {data!r}")


def upload_head(target: str) -> bytes:
    return (f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(BODY)}\r\n"
            "Expect: 100-continue\r\n\r\n").encode()


def expect_reject(port: int) -> None:
    """``upload.expect-reject``: the handler answers 413 before it reads the body, yet ``100 Continue``
    goes out first, inviting the body nobody reads. Then the case's follow-up on the same connection:
    the declared body and ``GET /health``, whose answer shows whether the connection stayed in step."""
    sock = socket.create_connection(("127.0.0.1", port))
    t0 = time.monotonic()
    sock.sendall(upload_head("/upload?id=repro-reject&reject=413"))
    show("POST /upload?reject=413 with Expect: 100-continue, body held back (1 s)", collect(sock, t0, 1.0))
    t0 = time.monotonic()
    sock.sendall(BODY + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    show(f"then the declared {len(BODY)}-byte body and GET /health on the same connection", collect(sock, t0, 1.0))
    sock.close()
    probe = socket.create_connection(("127.0.0.1", port))
    probe.sendall(b"GET /probe?id=repro-reject HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answer = b"".join(data for _, data in collect(probe, time.monotonic(), 1.0) if not data.startswith(b"<"))
    probe.close()
    record = answer.partition(b"\r\n\r\n")[2]
    print(f"--- the handler's record: {record[:400]!r}")


def expect_accept(port: int) -> None:
    """For comparison (``upload.expect-continue`` passes): the same upload, not rejected."""
    sock = socket.create_connection(("127.0.0.1", port))
    t0 = time.monotonic()
    sock.sendall(upload_head("/upload?id=repro-accept"))
    pieces = collect(sock, t0, 1.0)
    sock.sendall(BODY)
    pieces += collect(sock, t0, 1.0)
    show("POST /upload with Expect: 100-continue; the body sent after 1 s", pieces)
    sock.close()


REPRODUCTIONS = (expect_reject, expect_accept)


def run(port: int) -> None:
    for reproduce in REPRODUCTIONS:
        reproduce(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", default="aiohttp", help="an adapter name (streamspec.registry)")
    parser.add_argument("--port", type=int, help="a running adapter; default: start one")
    args = parser.parse_args()
    if args.port:
        run(args.port)
        return
    port = free_port()
    adapter = registry.get(args.adapter)
    argv = adapter.command(LaunchOptions("127.0.0.1", port, adapter.default_server))
    with ServerProcess(argv, "127.0.0.1", port, name=f"{args.adapter}-expect-continue-repro") as server:
        run(port)
        print("--- server log tail\n" + server.log_tail(12))


if __name__ == "__main__":
    main()
