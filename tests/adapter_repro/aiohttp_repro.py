"""Raw-socket reproductions of the aiohttp findings (reports/findings/aiohttp.md), a few lines each.

Run: ``python tests/adapter_repro/aiohttp_repro.py`` from the repository root. It starts the adapter
(``python -m adapters.aiohttp_app``, aiohttp's defaults) as a real process and, for comparison, the same
app under ``web.run_app(..., handler_cancellation=True)``, talks to them over plain sockets and prints
what the wire and the probe showed. The files findings (A4-A9) run against a fixture tree built in a
temporary directory (``streamspec.files.build_tree``, removed afterwards); ``--files`` runs only those. Not collected by pytest (the file name does not start with test_):
it is evidence, kept so anyone can re-run it against a newer aiohttp.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from conformance.store import MotoStore  # noqa: E402
from streamspec.files import (  # noqa: E402
    BUCKET,
    FILES_ROOT_ENV,
    MIB,
    S3_BUCKET_ENV,
    S3_ENDPOINT_ENV,
    build_tree,
)
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


def exchange(port: int, raw: bytes, wait: float = 1.0, rcvbuf: int | None = None) -> tuple[bytes, bytes, bool]:
    """Send ``raw``; (head, body, closed) of what came back until the server was quiet ``wait`` s."""
    with socket.create_connection((HOST, port)) as sock:
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.sendall(raw)
        data, closed = recv_until_quiet(sock, wait)
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body, closed


def get(port: int, path: str, *headers: str, wait: float = 1.0) -> tuple[bytes, bytes, bool]:
    extra = "".join(f"{h}\r\n" for h in headers)
    return exchange(port, f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode(), wait)


def show(label: str, head: bytes, body: bytes, closed: bool, *fields: bytes) -> None:
    lines = head.split(b"\r\n")
    picked = [h for h in lines[1:] if h.lower().split(b":")[0] in fields]
    print(f"{label} -> {lines[0]!r} {picked} body {len(body)} bytes, closed: {closed}")


def resources(port: int) -> dict:
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(b"GET /probe?id=resources: HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = recv_all(sock, 2.0)
    return json.loads(raw.split(b"\r\n\r\n", 1)[1])["resources"]


def head_file_then_get(port: int, path: str) -> None:
    """A1 on the download routes (files.head-headers.streamed, objects.head): HEAD of a StreamResponse
    download writes the body after the head; FileResponse (for comparison) does not."""
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode() + b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        print(f"[A1] HEAD {path} + GET /health on one connection ->", recv_all(sock))


def traversal(port: int, tree) -> None:
    """A4 (files.traversal.native/.streamed): a single-segment ``{name}`` whose ``%2F`` aiohttp decodes to
    ``/`` in ``match_info``; an absolute path the same way; a symlink in the root pointing outside."""
    secret = tree.secret.read_bytes()
    before = resources(port)["opened"].get("outside/secret.bin", 0)
    for prefix in ("/file/", "/file-stream/"):
        for name in ("..%2Foutside%2Fsecret.bin", "%2e%2e%2foutside%2fsecret.bin",
                     quote(str(tree.secret), safe=""), "escape.bin", "../outside/secret.bin"):
            head, body, _ = get(port, prefix + name)
            leaked = len(body) >= 16 and body[:16] in secret
            status = head.split(b"\r\n")[0]
            print(f"[A4] GET {prefix}{name} -> {status!r}, {len(body)} body bytes, "
                  f"the outside file's bytes: {leaked}")
    print("[A4] probe: the server opened outside/secret.bin",
          resources(port)["opened"].get("outside/secret.bin", 0) - before, "times")


def nul_name(port: int) -> None:
    """A5 (files.traversal.native): ``%00`` in the name. FileResponse.prepare() raises ValueError
    ("embedded null byte"), which it does not catch (it maps OSError to 404): no response at all."""
    for prefix in ("/file/", "/file-stream/"):
        head, body, closed = get(port, prefix + "..%2Foutside%2Fsecret.bin%00.bin")
        print(f"[A5] GET {prefix}..%2Foutside%2Fsecret.bin%00.bin -> head {head[:40]!r}, {len(body)} body "
              f"bytes, closed: {closed}")


def disposition(port: int) -> None:
    """A6 (files.disposition.native/.streamed): the attachment header as aiohttp users write it, on the
    wire: raw UTF-8 for a non-ASCII name, an unescaped quote for the other."""
    for name in ("résumé naïve 名前.bin", 'semi; "quoted" name.bin'):
        for prefix in ("/file/", "/file-stream/"):
            head, _, _ = get(port, prefix + quote(name, safe=""))
            value = [h for h in head.split(b"\r\n") if h.lower().startswith(b"content-disposition")]
            print(f"[A6] GET {prefix}{quote(name, safe='')} -> {value}")


def ranges(port: int) -> None:
    """A7 (files.conditional.if-range) and A8 (files.range.invalid, files.range.multi): FileResponse's
    Range handling."""
    fields = (b"content-range", b"content-length", b"etag")
    head, _, _ = get(port, "/file/k64.bin")
    etag = next(h for h in head.split(b"\r\n") if h.lower().startswith(b"etag")).split(b": ", 1)[1].decode()
    for if_range in ('"stale-validator"', f"W/{etag}", etag, "Thu, 01 Jan 2015 00:00:00 GMT"):
        show(f"[A7] Range: bytes=0-99, If-Range: {if_range}",
             *get(port, "/file/k64.bin", "Range: bytes=0-99", f"If-Range: {if_range}"), *fields)
    for value in ("chars=0-1", "bytes=0-0,0-0", "bytes=0-1,5-6", "bytes=-0", "bytes=0-9"):
        show(f"[A8] Range: {value}", *get(port, "/file/k64.bin", f"Range: {value}"), *fields)


def shrinking(port: int, tree) -> None:
    """A9 (files.changing.native/.streamed): a 64 MiB file truncated to 1 MiB while it is sent (the
    client has read the first 64 KiB). aiohttp ends the response short of its Content-Length and keeps
    the connection: the next response on it is read as the rest of this body."""
    for prefix in ("/file/", "/file-stream/"):
        path = tree.path("shrinking.bin")
        path.write_bytes(os.urandom(64 * MIB))
        sock = socket.create_connection((HOST, port))
        sock.sendall(f"GET {prefix}shrinking.bin HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        data = b""
        while len(data) < 65536:
            data += sock.recv(65536)
        os.truncate(path, 1 * MIB)
        more, closed = recv_until_quiet(sock, 3.0)
        head, _, body = (data + more).partition(b"\r\n\r\n")
        length = [h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")]
        print(f"[A9] GET {prefix}shrinking.bin, truncated to 1 MiB mid-send: {length}, {len(body)} body bytes "
              f"then quiet for 3 s, closed by the server: {closed}")
        if not closed:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            print(f"[A9]   a GET /health on the same connection -> {recv_all(sock)[:60]!r}")
        sock.close()
        path.unlink()


def files_main() -> None:
    base = Path(tempfile.mkdtemp(prefix="aiohttp-repro-"))
    store = None
    try:
        tree = build_tree(base / "tree")
        store = MotoStore(tree.base).start().ready()  # the objects, for HEAD /object (A1)
        port = free_port()
        env = {FILES_ROOT_ENV: str(tree.root), S3_ENDPOINT_ENV: store.endpoint, S3_BUCKET_ENV: BUCKET}
        with ServerProcess([sys.executable, "-m", "adapters.aiohttp_app", "--host", HOST, "--port", str(port)],
                           HOST, port, name="aiohttp-files", env=env):
            head_file_then_get(port, "/file-stream/one.bin")
            head_file_then_get(port, "/object/one.bin")
            head_file_then_get(port, "/file/one.bin")
            traversal(port, tree)
            nul_name(port)
            disposition(port)
            ranges(port)
            shrinking(port, tree)
    finally:
        if store is not None:
            store.stop()
        shutil.rmtree(base, ignore_errors=True)


def main() -> int:
    if "--files" in sys.argv[1:]:
        files_main()
        return 0
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
    files_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
