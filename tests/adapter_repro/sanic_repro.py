"""Raw-socket reproductions of the Sanic findings (reports/findings/sanic.md), a few lines each.

Why raw sockets: every finding is about bytes on the wire (framing, the terminating chunk, when the head
arrives, whether the connection stays usable), which an HTTP client library would hide or repair.
Each reproduction is one small function named after its finding (``s1_...`` for S1); ``run`` calls them all.

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


def head_then_get(port: int, target: str, pause: float = 0.1, wait: float = 1.0) -> list[tuple[float, bytes]]:
    """The case's order, not pipelined: HEAD, read what arrives for ``pause`` seconds, then GET /health on
    the same connection and read until the peer closes or ``wait`` passes quietly."""
    sock = socket.create_connection(("127.0.0.1", port))
    t0 = time.monotonic()
    pieces = []

    def collect(until: float) -> bool:
        """Record arrivals until ``until``; False once the peer has closed."""
        while (left := until - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                return True
            except OSError as exc:
                data, note = b"", f"<{type(exc).__name__}>".encode()
            else:
                note = b"<peer closed>"
            pieces.append((time.monotonic() - t0, data or note))
            if not data:
                return False
        return True

    try:
        sock.sendall(get(target, method="HEAD"))
        collect(t0 + pause)
        time.sleep(max(0.0, t0 + pause - time.monotonic()))  # the full pause, even after a close
        sock.sendall(get("/health"))
        pieces.append((time.monotonic() - t0, b"<sent GET /health>"))
        if collect(time.monotonic() + wait):
            pieces.append((time.monotonic() - t0, b"<still open, silent>"))
    except OSError as exc:
        pieces.append((time.monotonic() - t0, f"<{type(exc).__name__}>".encode()))
    finally:
        sock.close()
    return pieces


# S1 errors.truncated.chunked / errors.http-error-truncated.chunked: the body still ends with 0\r\n\r\n.
def s1_error_mid_stream(port: int) -> None:
    """A plain exception before chunk 2: terminating chunk sent, connection kept open."""
    show("S1 producer raises mid-stream (chunked)",
         exchange(port, get("/stream?n=4&size=4&raise_after=2&delay=20")))


def s1_http_error_mid_stream(port: int) -> None:
    """The same with SanicException(status_code=503) (raise_as=http), GET /health pipelined behind it:
    the truncated body ends cleanly and the next request is answered as if nothing happened."""
    show("S1b SanicException(503) mid-stream (chunked), then GET /health pipelined",
         exchange(port, get("/stream?n=4&size=4&raise_after=2&delay=20&raise_as=http") + get("/health"),
                  wait=1))


def s1_error_mid_stream_length(port: int) -> None:
    """Contrast (passes): with a declared length the same error closes the connection after 8 of 16 bytes."""
    show("S1c SanicException(503) mid-stream (Content-Length: 16)",
         exchange(port, get("/stream?n=4&size=4&raise_after=2&delay=20&raise_as=http&cl=1")))


# S2 chunking.http10-no-chunked: an HTTP/1.0 request gets Transfer-Encoding: chunked.
def s2_http10(port: int) -> None:
    show("S2 HTTP/1.0 request", exchange(port, get("/stream?n=2&size=4", version="1.0")))


# S3 chunking.head: HEAD on a streamed response.
def s3_head_pipelined(port: int) -> None:
    """HEAD, then GET /health pipelined on the same connection: head says keep-alive, then a close."""
    show("S3 HEAD then GET on one connection (pipelined)",
         exchange(port, get("/stream?n=4&size=4", method="HEAD") + get("/health")))


def s3_head_then_get(port: int) -> None:
    """The case's order: the FIN follows the HEAD response with no byte in between; GET /health is lost."""
    show("S3a HEAD, 100 ms pause, then GET on one connection", head_then_get(port, "/stream?n=4&size=100"))


def s3_head_one_chunk(port: int) -> None:
    """One chunk then eof() on HEAD: the TypeError is only logged and the connection survives."""
    show("S3b HEAD (one chunk) then GET on one connection",
         exchange(port, get("/stream?n=1&size=4", method="HEAD") + get("/health"), wait=1))


# S4 chunking.headers-first / sse.headers-first: the head only leaves with the first chunk or event.
def s4_headers_first(port: int) -> None:
    show("S4 head waits for the first chunk (1 s)",
         exchange(port, get("/stream?n=1&size=4&delay=1000"), wait=3))


def s4_sse_headers_first(port: int) -> None:
    show("S4b SSE head waits for the first event (400 ms)",
         exchange(port, get("/sse?n=1&interval=400"), wait=2))


REPRODUCTIONS = (s1_error_mid_stream, s1_http_error_mid_stream, s1_error_mid_stream_length, s2_http10,
                 s3_head_pipelined, s3_head_then_get, s3_head_one_chunk, s4_headers_first,
                 s4_sse_headers_first)


def run(port: int) -> None:
    for reproduce in REPRODUCTIONS:
        reproduce(port)


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
