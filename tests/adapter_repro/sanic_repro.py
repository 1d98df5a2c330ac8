"""Raw-socket reproductions of the Sanic findings (reports/findings/sanic.md), a few lines each.

Why raw sockets: every finding is about bytes on the wire (framing, the terminating chunk, when the head
arrives, whether the connection stays usable), which an HTTP client library would hide or repair.

    python tests/adapter_repro/sanic_repro.py            # starts adapters.sanic_app itself
    python tests/adapter_repro/sanic_repro.py --port N   # against a Sanic server already running
"""

from __future__ import annotations

import argparse
import socket
import time

from streamspec import registry
from streamspec.adapter import LaunchOptions
from streamspec.launch import ServerProcess, free_port


def exchange(port: int, request: bytes, wait: float = 2.0) -> list[tuple[float, bytes]]:
    """Send ``request`` and collect (seconds since sent, bytes) until the peer closes or ``wait`` passes quietly."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(wait)
    t0 = time.monotonic()
    sock.sendall(request)
    pieces = []
    try:
        while data := sock.recv(65536):
            pieces.append((time.monotonic() - t0, data))
        pieces.append((time.monotonic() - t0, b"<peer closed>"))
    except socket.timeout:
        pieces.append((time.monotonic() - t0, b"<still open, silent>"))
    finally:
        sock.close()
    return pieces


def show(title: str, pieces) -> None:
    print(f"--- {title}")
    for t, data in pieces:
        print(f"  +{t * 1000:7.1f} ms  {data!r}")


def get(target: str, version: str = "1.1", method: str = "GET", extra: str = "") -> bytes:
    return f"{method} {target} HTTP/{version}\r\nHost: x\r\n{extra}\r\n".encode()


def run(port: int) -> None:
    # S1 errors.truncated-chunked: the producer raises before chunk 2; the body still ends with 0\r\n\r\n.
    show("S1 producer raises mid-stream (chunked)",
         exchange(port, get("/stream?n=4&size=4&raise_after=2&delay=20")))
    # S2 chunking.http10-no-chunked: an HTTP/1.0 request gets Transfer-Encoding: chunked.
    show("S2 HTTP/1.0 request", exchange(port, get("/stream?n=2&size=4", version="1.0")))
    # S3 chunking.head: HEAD on a streamed response, then GET /health pipelined on the same connection.
    show("S3 HEAD then GET on one connection",
         exchange(port, get("/stream?n=4&size=4", method="HEAD") + get("/health")))
    # S3b: one chunk then eof() on HEAD: the TypeError is only logged and the connection survives.
    show("S3b HEAD (one chunk) then GET on one connection",
         exchange(port, get("/stream?n=1&size=4", method="HEAD") + get("/health"), wait=1))
    # S4 chunking.headers-first: the head only leaves with the first chunk (1 s later).
    show("S4 head waits for the first chunk", exchange(port, get("/stream?n=1&size=4&delay=1000"), wait=3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="a running Sanic adapter; default: start one")
    args = parser.parse_args()
    if args.port:
        run(args.port)
        return
    port = free_port()
    argv = registry.get("sanic").command(LaunchOptions("127.0.0.1", port, "sanic"))
    with ServerProcess(argv, "127.0.0.1", port, name="sanic-repro") as server:
        run(port)
        print("--- server log tail\n" + server.log_tail(12))


if __name__ == "__main__":
    main()
