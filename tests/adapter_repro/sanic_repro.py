"""Raw-socket reproductions of the Sanic findings (reports/findings/sanic.md), a few lines each.

Why raw sockets: every finding is about bytes on the wire (framing, the terminating chunk, when the head
arrives, whether the connection stays usable), which an HTTP client library would hide or repair.
Each reproduction is one small function named after its finding (``s1_...`` for S1); ``run`` calls them all.

    python tests/adapter_repro/sanic_repro.py            # starts adapters.sanic_app itself
    python tests/adapter_repro/sanic_repro.py --port N   # against a Sanic server already running
    python tests/adapter_repro/sanic_repro.py --files    # only the files findings (S5-S7)

The files findings (S5-S7) need the fixture tree the server serves: the script builds one in a temporary
directory (``streamspec.files.build_tree``, removed afterwards) and starts the server on it, unless
``STREAMSPEC_FILES_ROOT`` already names one (then ``--port`` may point at a server serving it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from streamspec import registry
from streamspec.adapter import LaunchOptions
from streamspec.files import FILES_ROOT_ENV, SECRET, build_tree
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


# --- files (streamspec.files): /file/<name> is file_stream(filename=...), /file-stream/<name> the guide's
# hand-written request.respond() download; the fixture tree is the server's STREAMSPEC_FILES_ROOT.

def head_lines(pieces, *fields: bytes) -> list[bytes]:
    """The status line and the named header lines of a response collected by ``exchange``."""
    data = b"".join(d for _, d in pieces if not d.startswith(b"<"))
    lines = data.partition(b"\r\n\r\n")[0].split(b"\r\n")
    return [lines[0]] + [h for h in lines[1:] if h.lower().split(b":")[0] in fields]


def body_of(pieces) -> bytes:
    return b"".join(d for _, d in pieces if not d.startswith(b"<")).partition(b"\r\n\r\n")[2]


def resources(port: int) -> dict:
    pieces = exchange(port, get("/probe?id=resources:", extra="Connection: close\r\n"), wait=2)
    return json.loads(body_of(pieces))["resources"]


# S5 files.disposition.native / .streamed: the attachment header carries raw UTF-8 and unescaped quotes.
def s5_disposition(port: int) -> None:
    """file_stream(filename=name) and the guide's hand-written header, for a non-ASCII name and a name with
    ``;`` and ``"``: the exact bytes of the Content-Disposition line."""
    for name in ("résumé naïve 名前.bin", 'semi; "quoted" name.bin'):
        for prefix in ("/file/", "/file-stream/"):
            pieces = exchange(port, get(prefix + quote(name, safe=""), extra="Connection: close\r\n"), wait=1)
            print(f"--- S5 GET {prefix}{quote(name, safe='')}")
            for line in head_lines(pieces, b"content-disposition"):
                print(f"  {line!r}")


# S6 files.traversal.native / .streamed: a one-segment <name> route serves files outside the root.
def s6_traversal(port: int) -> None:
    """``%2F`` inside the one segment (decoded by the route's unquote=True after matching), an absolute
    path the same way, a symlink in the root that points outside, a NUL byte; the probe counts the opens."""
    root = os.environ.get(FILES_ROOT_ENV)
    secret = (Path(root).parent / "outside" / SECRET).read_bytes() if root else b""
    before = resources(port)["opened"].get(f"outside/{SECRET}", 0)
    names = ["..%2Foutside%2F" + SECRET, "%2e%2e%2foutside%2f" + SECRET, "escape.bin",
             "..%2Foutside%2F" + SECRET + "%00.bin", "../outside/" + SECRET]
    if root:
        names.insert(2, quote(str(Path(root).parent / "outside" / SECRET), safe=""))
    for prefix in ("/file/", "/file-stream/"):
        for name in names:
            pieces = exchange(port, get(prefix + name, extra="Connection: close\r\n"), wait=1)
            body = body_of(pieces)
            leaked = bool(secret) and len(body) >= 16 and body[:16] in secret
            print(f"--- S6 GET {prefix}{name}: {head_lines(pieces, b'content-disposition')}, {len(body)} body "
                  f"bytes, the outside file's: {leaked}")
    opened = resources(port)["opened"].get(f"outside/{SECRET}", 0) - before
    print(f"--- S6 probe: the server opened outside/{SECRET} {opened} times")


# S7 files.range.supported / files.validators (and files.conditional): file_stream has no ranges, no validators.
def s7_no_ranges_no_validators(port: int) -> None:
    fields = (b"content-length", b"content-range", b"accept-ranges", b"etag", b"last-modified")
    for extra in ("", "Range: bytes=0-9\r\n", "Range: bytes=-1\r\n",
                  "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n"):
        pieces = exchange(port, get("/file/k64.bin", extra=extra + "Connection: close\r\n"), wait=1)
        print(f"--- S7 GET /file/k64.bin {extra.strip() or '(no condition)'}: {head_lines(pieces, *fields)}, "
              f"{len(body_of(pieces))} body bytes")


REPRODUCTIONS = (s1_error_mid_stream, s1_http_error_mid_stream, s1_error_mid_stream_length, s2_http10,
                 s3_head_pipelined, s3_head_then_get, s3_head_one_chunk, s4_headers_first,
                 s4_sse_headers_first)
FILES_REPRODUCTIONS = (s5_disposition, s6_traversal, s7_no_ranges_no_validators)


def run(port: int, only_files: bool = False) -> None:
    for reproduce in (() if only_files else REPRODUCTIONS) + FILES_REPRODUCTIONS:
        reproduce(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, help="a running Sanic adapter; default: start one")
    parser.add_argument("--files", action="store_true", help="only the files findings (S5-S7)")
    args = parser.parse_args()
    if args.port:
        run(args.port, args.files)
        return
    made = None
    if not os.environ.get(FILES_ROOT_ENV):
        made = Path(tempfile.mkdtemp(prefix="sanic-repro-"))
        os.environ[FILES_ROOT_ENV] = str(build_tree(made / "tree").root)
    try:
        port = free_port()
        argv = registry.get("sanic").command(LaunchOptions("127.0.0.1", port, "sanic"))
        with ServerProcess(argv, "127.0.0.1", port, name="sanic-repro") as server:
            run(port, args.files)
            print("--- server log tail\n" + server.log_tail(12))
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


if __name__ == "__main__":
    main()
