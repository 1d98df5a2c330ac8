"""Raw-socket reproductions of the socketify.py (native API) findings (reports/findings/socketify.md).

Why raw sockets: each finding is about bytes and timing on the wire, which ordinary clients hide. This
script starts the adapter's server (and the reference for the SSE comparison) as real processes,
prints what arrived and when, and stops them again.

    python -m tests.adapter_repro.socketify_repro            # every repro
    python -m tests.adapter_repro.socketify_repro head http10  # some of them

``send-chunk-gc`` (S8) kills the server it talks to, so it starts servers of its own. The downloads
repros (``file-*``, ``objects-context``) build a fixture tree and a moto store first
(``conformance.downloads``, removed at exit); ``file-shrink`` and the controls start servers of their own.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import sys
import time
import urllib.request
from urllib.parse import quote

from streamspec.files import served_root
from streamspec.launch import ServerProcess, free_port

HOST = "127.0.0.1"
MiB = 1024 * 1024


def raw(port: int, request: bytes, wait: float = 2.0, rcvbuf: int | None = None) -> list[tuple[float, bytes]]:
    """Send ``request``; return (seconds since send, bytes) per recv until EOF or ``wait`` of silence."""
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((HOST, port))
    sock.settimeout(wait)
    t0 = time.monotonic()
    sock.sendall(request)
    got = []
    try:
        while True:
            data = sock.recv(65536)
            got.append((time.monotonic() - t0, data or b"<EOF>"))
            if not data:
                break
    except socket.timeout:
        got.append((time.monotonic() - t0, b"<no more bytes, connection still open>"))
    sock.close()
    return got


def show(title: str, got) -> None:
    print(f"--- {title}")
    for t, data in got:
        print(f"  +{t:7.3f}s {data[:220]!r}{' ...' if len(data) > 220 else ''}")


def get(port: int, target: str, http10: bool = False, method: str = "GET") -> bytes:
    version = "HTTP/1.0" if http10 else "HTTP/1.1"
    return f"{method} {target} {version}\r\nHost: {HOST}:{port}\r\n\r\n".encode()


def probe(port: int, request_id: str) -> dict:
    with urllib.request.urlopen(f"http://{HOST}:{port}/probe?id={request_id}", timeout=5) as resp:
        return json.load(resp)


# -- the repros --------------------------------------------------------------------------------------
def repro_head(port: int) -> None:
    """chunking.head: HEAD on a GET route, alone and followed by a GET on the same connection."""
    show("HEAD /stream (only app.get registered)", raw(port, get(port, "/stream?n=2&size=4", method="HEAD")))
    show("HEAD /stream then GET /health, pipelined on one connection",
         raw(port, get(port, "/stream?n=2&size=4", method="HEAD") + get(port, "/health")))
    show("GET /nowhere (no route at all)", raw(port, get(port, "/nowhere")))


def repro_http10(port: int) -> None:
    """chunking.http10-no-chunked: HTTP/1.0 request, unknown length."""
    show("GET /stream?n=2&size=4 HTTP/1.0", raw(port, get(port, "/stream?n=2&size=4", http10=True)))


def repro_headers_first(port: int) -> None:
    """chunking.headers-first: 1 s before the first chunk."""
    show("GET /stream?n=1&size=4&delay=1000 (chunked)", raw(port, get(port, "/stream?n=1&size=4&delay=1000")))
    show("GET /sse?n=1&interval=1000", raw(port, get(port, "/sse?n=1&interval=1000")))


def repro_truncation(port: int) -> None:
    """errors.truncated-*: producer raises before chunk 3 of 6 (4 bytes each)."""
    show("GET /stream?n=6&size=4&raise_after=3 (chunked)",
         raw(port, get(port, "/stream?n=6&size=4&raise_after=3")))
    show("GET /stream?n=6&size=4&raise_after=3&cl=1 (Content-Length: 24)",
         raw(port, get(port, "/stream?n=6&size=4&raise_after=3&cl=1"), wait=3.0))


def repro_abort_idle(port: int) -> None:
    """abort.idle / sse.idle-disconnect: client leaves while the producer sleeps 30 s."""
    for path in ("/stream?n=3&size=4&delay=30000", "/sse?n=3&interval=30000"):
        rid = f"repro-idle-{time.time_ns()}"
        sock = socket.create_connection((HOST, port))
        sock.sendall(get(port, f"{path}&id={rid}"))
        time.sleep(0.3)
        sock.close()
        time.sleep(3.0)
        kinds = [e["kind"] for e in probe(port, rid)["record"]["events"]]
        print(f"--- {path}: client closed while idle; probe events 3 s later: {kinds} "
              "(no 'cleanup' until the next item at +30 s)")


def repro_backpressure(port: int) -> None:
    """backpressure.*: a reader that never reads, 64 x 1 MiB; chunked (res.write) vs cl=1 (send_chunk)."""
    for label, extra in (("chunked, res.write", ""), ("Content-Length, res.send_chunk", "&cl=1")):
        rid = f"repro-stall-{time.time_ns()}"
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((HOST, port))
        sock.sendall(get(port, f"/stream?id={rid}&n=64&size={MiB}{extra}"))
        time.sleep(2.0)
        events = probe(port, rid)["record"]["events"]
        produced = sum(e.get("size", 0) for e in events if e["kind"] == "chunk")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()
        print(f"--- stalled reader ({label}): producer made {produced / MiB:.1f} MiB in 2 s, "
              f"client read 0 bytes")
    # abort.while-backpressured.chunked: the 4096 x 64 KiB plan; the producer must be held short of the end
    rid = f"repro-stall-{time.time_ns()}"
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((HOST, port))
    sock.sendall(get(port, f"/stream?id={rid}&n=4096&size=65536"))
    time.sleep(2.0)
    events = probe(port, rid)["record"]["events"]
    produced = sum(e.get("size", 0) for e in events if e["kind"] == "chunk")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    print(f"--- stalled reader (chunked, 4096 x 64 KiB): producer made {produced / MiB:.1f} MiB in 2 s, "
          f"probe {[e['kind'] for e in events if e['kind'] != 'chunk']}: nothing left to stop when it resets")


def repro_sse_bytes(port: int) -> None:
    """/sse: byte-compare the body with the reference server's for a few plans."""
    ref_port = free_port()
    ref = ServerProcess([sys.executable, "-m", "reference", "--server", "uvicorn", "--host", HOST,
                         "--port", str(ref_port)], HOST, ref_port, name="reference/uvicorn")
    with ref:
        for query, last_id in (("n=3&payload=mixed&event=tick&retry=1500", None),
                               ("n=4&payload=unicode&close_after=2", "1"), ("n=2", "2"),
                               ("n=2&interval=120&keepalive=50", None)):
            bodies = []
            for p in (port, ref_port):
                req = f"GET /sse?{query} HTTP/1.1\r\nHost: x\r\n" + \
                      (f"Last-Event-ID: {last_id}\r\n" if last_id else "") + "Connection: close\r\n\r\n"
                data = b"".join(d for _, d in raw(p, req.encode(), wait=2.0) if not d.startswith(b"<"))
                head, _, body = data.partition(b"\r\n\r\n")
                bodies.append((head.split(b"\r\n")[0], _dechunk(body) if b"chunked" in head.lower() else body))
            same = bodies[0] == bodies[1]
            print(f"--- /sse?{query} Last-Event-ID={last_id}: socketify {bodies[0][0]!r} vs reference "
                  f"{bodies[1][0]!r}; bodies {'identical' if same else 'DIFFER'} ({len(bodies[0][1])} bytes)")


# A handler that keeps the response alive itself (a strong reference to ``res`` while it runs): the control.
HOLD_RES = ("import sys, adapters.socketify_app as app\n"
            "held = set()\n"
            "stream = app.stream\n"
            "async def holding(res, req):\n"
            "    held.add(res)\n"
            "    try:\n"
            "        await stream(res, req)\n"
            "    finally:\n"
            "        held.discard(res)\n"
            "app.stream = holding\n"
            "app.main(sys.argv[1:])\n")


def _socketify(code: str | None = None) -> ServerProcess:
    port = free_port()
    argv = [sys.executable, "-m", "adapters.socketify_app"] if code is None else [sys.executable, "-c", code]
    return ServerProcess(argv + ["--host", HOST, "--port", str(port)], HOST, port, name="socketify")


def _gc_round(server: ServerProcess, then: str) -> bool:
    """A declared-length stream (``res.send_chunk``) to a reader that stopped reading (4 KiB buffer), 1000
    ``GET /health`` on another connection meanwhile (ordinary traffic: Python's cyclic GC gets to run),
    then ``then``: ``reset`` (RST via SO_LINGER 0) or ``read`` (the reader resumes). True if the server died."""
    port = server.port
    rid = f"repro-gc-{time.time_ns()}"
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((HOST, port))
    sock.sendall(get(port, f"/stream?id={rid}&n=4096&size=65536&cl=1"))  # Content-Length: 268435456
    time.sleep(0.5)

    def state() -> tuple[float, list[str]]:
        events = probe(port, rid)["record"]["events"]
        return (sum(e.get("size", 0) for e in events if e["kind"] == "chunk") / MiB,
                [e["kind"] for e in events if e["kind"] != "chunk"])

    made, before = state()
    other = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        for _ in range(1000):
            other.request("GET", "/health")
            other.getresponse().read()
        after = state()[1]
    except (OSError, http.client.HTTPException) as exc:
        after = [f"server gone during the traffic ({type(exc).__name__})"]
    print(f"    producer made {made:.1f} MiB then waited in send_chunk; probe {before} before the traffic, "
          f"{after} after it (the client is still connected)")
    got = 0
    if then == "reset":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        time.sleep(0.5)
    else:
        sock.settimeout(2.0)
        try:
            while data := sock.recv(1 << 20):
                got += len(data)
        except (socket.timeout, ConnectionError):
            pass
        sock.close()
        time.sleep(0.2)
    code = server.proc.poll()
    tail = [line.strip() for line in server.log_tail(40).splitlines()
            if "Fatal Python error" in line or "Error:" in line or "socketify.py\", line" in line]
    outcome = "server alive" if code is None else f"server process exit code {code}"
    read = f"client then read {got} of 268435456 bytes, nothing after 2 s; " if then == "read" else ""
    if code is None and then == "reset":
        outcome += f", probe now {state()[1]}"
    print(f"    after the {'RST' if then == 'reset' else 'reader resumed'}: {read}{outcome}")
    for line in tail[:2]:
        print(f"      {line[:150]}")
    return code is not None


def repro_send_chunk_gc(_port: int) -> None:
    """S8, abort.while-backpressured.length / backpressure.slow-reader.length: a handler waiting in
    ``await res.send_chunk(...)`` is referenced by nothing but itself, so the GC destroys it, and uWS later
    calls back into the freed response. Each round on a fresh server (the default app, unchanged)."""
    for then in ("reset", "read"):
        for attempt in range(1, 4):
            print(f"--- send_chunk stream to a stalled reader, 1000 requests elsewhere, then "
                  f"{'RST' if then == 'reset' else 'the reader resumes'} (attempt {attempt})")
            with _socketify() as server:
                if _gc_round(server, then):
                    break
    print("--- control: the same app, but the handler holds a strong reference to res while it runs")
    with _socketify(HOLD_RES) as server:
        _gc_round(server, "reset")


# -- downloads (files and objects) ------------------------------------------------------------------
def _path(route: str, name: str) -> str:
    return f"/{route}/{quote(name, safe='')}"


def _req(port: int, target: str, method: str = "GET", headers: str = "") -> bytes:
    return f"{method} {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{headers}\r\n".encode()


def _head_of(got) -> tuple[bytes, int, bytes]:
    """(the response head, body bytes received, how the exchange ended) of a ``raw`` result."""
    data = b"".join(d for _, d in got if not d.startswith(b"<"))
    head, _, body = data.partition(b"\r\n\r\n")
    return head, len(body), got[-1][1] if got[-1][1].startswith(b"<") else b""


def _show_head(title: str, got) -> None:
    head, n, end = _head_of(got)
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith((b"date:", b"server:"))]
    print(f"--- {title}\n  {b' | '.join(lines)!r}\n  then {n} body bytes, {end.decode() or 'closed'}")


# A control app: socketify's sendfile alone, no header written before it (route /bare/:name).
BARE_SENDFILE = ("import os, sys\n"
                 "from urllib.parse import unquote\n"
                 "from socketify import sendfile\n"
                 "import adapters.socketify_app as app\n"
                 "from streamspec import files\n"
                 "make = app.make_app\n"
                 "async def bare(res, req):\n"
                 "    await sendfile(res, req, os.path.join(files.served_root(), unquote(req.get_parameter(0))))\n"
                 "def make_app():\n"
                 "    a = make()\n"
                 "    a.get('/bare/:name', bare)\n"
                 "    return a\n"
                 "app.make_app = make_app\n"
                 "app.main(sys.argv[1:])\n")


def repro_file_status(port: int) -> None:
    """files.* (S9): the docs' attachment header written before ``await sendfile(...)`` fixes the status at
    200, whatever sendfile answers; the control is sendfile alone."""
    for target, extra in (("/file/c4097.bin", "Range: bytes=0-9\r\n"), ("/file/no-such-file.bin", ""),
                          ("/file/c4097.bin", "Range: bytes=5000-6000\r\n")):
        _show_head(f"GET {target} {extra.strip()} (the adapter: Content-Disposition, then sendfile)",
                   raw(port, _req(port, target, headers=extra), wait=1.5))
    head = _head_of(raw(port, _req(port, "/file/k64.bin", "HEAD"), wait=0.5))[0]
    modified = next(ln.split(b": ", 1)[1].decode() for ln in head.split(b"\r\n")
                    if ln.lower().startswith(b"last-modified"))
    _show_head(f"GET /file/k64.bin If-Modified-Since: {modified} (its Last-Modified)",
               raw(port, _req(port, "/file/k64.bin", headers=f"If-Modified-Since: {modified}\r\n"), wait=1.5))
    with _socketify(BARE_SENDFILE) as control:
        for target, extra in (("/bare/c4097.bin", "Range: bytes=0-9\r\n"), ("/bare/no-such-file.bin", ""),
                              ("/bare/c4097.bin", "Range: bytes=5000-6000\r\n")):
            _show_head(f"control: GET {target} {extra.strip()} (sendfile alone)",
                       raw(control.port, _req(control.port, target, headers=extra), wait=1.5))


def repro_file_ranges(port: int) -> None:
    """files.* (S11): Range forms sendfile's parser does not know, and the empty file's Content-Range."""
    for extra in ("Range: bytes=-10\r\n", "Range: bytes=0-1,5-6\r\n", ""):
        target = "/file/c4097.bin" if extra else "/file/empty.bin"
        _show_head(f"GET {target} {extra.strip()}", raw(port, _req(port, target, headers=extra), wait=1.5))
    with _socketify(BARE_SENDFILE) as control:
        _show_head("control: GET /bare/c4097.bin Range: bytes=-10 (sendfile alone)",
                   raw(control.port, _req(control.port, "/bare/c4097.bin", headers="Range: bytes=-10\r\n"),
                       wait=1.5))


def repro_file_head(port: int) -> None:
    """files.*head* (S12): HEAD on the download routes gets the whole body, so on a kept-alive connection
    the next response a client reads starts with the file's bytes."""
    for route in ("file", "file-stream"):
        target = _path(route, "c4097.bin")
        sock = socket.create_connection((HOST, port))
        sock.settimeout(1.0)
        got = b""
        for request in (_req(port, target, "HEAD"), _req(port, "/health")):
            sock.sendall(request)  # the second only after the first was answered (no pipelining)
            try:
                while data := sock.recv(65536):
                    got += data
            except TimeoutError:
                pass
        sock.close()
        head, _, rest = got.partition(b"\r\n\r\n")
        lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith((b"date:", b"server:"))]
        print(f"--- HEAD {target}, then GET /health on the same connection\n  {b' | '.join(lines)!r}\n"
              f"  after that head: {len(rest)} bytes, starting {rest[:12]!r}, where a client reads the next "
              f"response's status line; /health's status line is {rest.find(b'HTTP/1.1')} bytes in")


def repro_file_traversal(port: int) -> None:
    """files.traversal* (S13): names that leave the root, through the docs' sendfile with a decoded name."""
    root = served_root()
    secret = (root.parent / "outside" / "secret.bin").read_bytes() if root else b""
    for route in ("file", "file-stream"):
        for name in ("escape.bin", "../outside/secret.bin", str(root.parent / "outside" / "secret.bin")):
            target = _path(route, name)
            got = raw(port, _req(port, target), wait=1.5)
            data = b"".join(d for _, d in got if not d.startswith(b"<"))
            head, _, body = data.partition(b"\r\n\r\n")
            status = head.split(b"\r\n")[0].decode() or "no response"
            leak = ", the secret file outside the root" if body and body == secret else ""
            print(f"--- GET {target}: {status}, {len(body)} body bytes{leak}")


def repro_file_disposition(port: int) -> None:
    """files.disposition* (S14): the docs' header form filled with a name."""
    for name in ("résumé naïve 名前.bin", 'semi; "quoted" name.bin'):
        got = raw(port, _req(port, _path("file", name)), wait=1.0)
        head = _head_of(got)[0]
        line = next(ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-disposition"))
        print(f"--- GET {_path('file', name)}\n  {line!r}")


def repro_file_shrink(_port: int) -> None:
    """files.*shrink* (S15): the file is cut to 1 MiB while a 10 MiB download waits on a stalled reader.
    Each route on a fresh server (sendfile's spin takes the whole server)."""
    import os
    import shutil
    root = served_root()
    for route in ("file", "file-stream"):
        path = root / f"shrink-{route}.bin"
        shutil.copy(root / "m10.bin", path)
        try:
            with _socketify() as server:
                sock = socket.socket()
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.connect((HOST, server.port))
                sock.sendall(_req(server.port, _path(route, path.name)))
                time.sleep(0.5)
                os.truncate(path, MiB)
                sock.settimeout(3.0)
                got = b""
                try:
                    while data := sock.recv(1 << 20):
                        got += data
                    end = "closed"
                except TimeoutError:
                    end = "still open after 3 s of silence"
                sock.close()
                head, _, body = got.partition(b"\r\n\r\n")
                length = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length")]
                try:
                    with urllib.request.urlopen(f"http://{HOST}:{server.port}/health", timeout=3) as resp:
                        health = f"GET /health answers {resp.status}"
                except OSError as exc:
                    health = f"GET /health gets no answer within 3 s ({type(exc).__name__})"
                import psutil
                cpu = psutil.Process(server.proc.pid).cpu_percent(interval=1.0)
                print(f"--- /{route}/ of a 10 MiB file cut to 1 MiB mid-download: {length[0].decode()}, "
                      f"{len(body)} body bytes, {end}; then {health}; server CPU {cpu:.0f}% over 1 s")
        finally:
            path.unlink(missing_ok=True)


# The control for file-gc: the same app, but /file's handler holds a strong reference to res while it runs.
HOLD_FILE_RES = HOLD_RES.replace("stream = app.stream", "stream = app.download").replace(
    "app.stream = holding", "app.download = holding")


def _gc_downloads(server: ServerProcess, route: str, n: int = 100) -> None:
    """``n`` downloads of m256.bin that each read 1 byte and stall (4 KiB receive buffer), then RST."""
    port = server.port
    socks = []
    for _ in range(n):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((HOST, port))
        sock.sendall(_req(port, _path(route, "m256.bin")))
        sock.recv(1)
        socks.append(sock)
    peak = probe(port, "resources:")["resources"]["open"].count("root/m256.bin")
    for sock in socks:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    time.sleep(1.0)
    code = server.proc.poll()
    tail = [line.strip() for line in server.log_tail(40).splitlines()
            if "Fatal Python error" in line or "socketify.py\", line" in line]
    print(f"    {n} stalled downloads of /{route}/m256.bin: {peak} held the file open (probe) while every client "
          f"was still connected; after the resets: "
          f"{'server alive' if code is None else f'server process exit code {code}'}")
    for line in tail[:2]:
        print(f"      {line[:150]}")


def repro_file_gc(_port: int) -> None:
    """files.abort-many.native (S8): socketify's sendfile waits in ``await res.send_chunk()`` like S8's
    handlers, so the GC collects the waiting downloads; each round on a fresh server."""
    for route in ("file", "file", "file-stream"):
        print(f"--- /{route}/, 100 stalled downloads then RST, the default app")
        with _socketify() as server:
            _gc_downloads(server, route)
    print("--- control: /file/, the handler holds a strong reference to res while it runs")
    with _socketify(HOLD_FILE_RES) as server:
        _gc_downloads(server, "file")


# A control app: the adapter's /object handler behind one ``await asyncio.sleep(0)`` (and req.preserve()).
OBJECT_AFTER_AWAIT = ("import asyncio, sys\n"
                      "import adapters.socketify_app as app\n"
                      "inner = app.get_object\n"
                      "async def get_object(res, req):\n"
                      "    req.preserve()\n"
                      "    await asyncio.sleep(0)\n"
                      "    await inner(res, req)\n"
                      "app.get_object = get_object\n"
                      "app.main(sys.argv[1:])\n")

# A bare app: a ContextVar set before the handler's first await and reset after it (no aiobotocore).
CONTEXTVAR_APP = ("import asyncio, contextvars, sys\n"
                  "from socketify import App, AppListenOptions\n"
                  "from streamspec.probe import PROBE\n"
                  "var = contextvars.ContextVar('request_var')\n"
                  "async def handler(res, req):\n"
                  "    n = req.get_query('n')\n"
                  "    if req.get_query('await_first'):\n"
                  "        await asyncio.sleep(0)\n"
                  "    seen = var.get('unset')\n"
                  "    token = var.set(n)\n"
                  "    await asyncio.sleep(0)\n"
                  "    try:\n"
                  "        var.reset(token)\n"
                  "        out = 'reset ok'\n"
                  "    except ValueError as exc:\n"
                  "        out = f'ValueError: {exc}'\n"
                  "    res.end(f'request {n}: var before set: {seen}; reset after the await: {out}')\n"
                  "app = App()\n"
                  "app.get('/cv', handler)\n"
                  "app.get('/probe', lambda res, req: res.send(PROBE.snapshot(None)))\n"
                  "port = int(sys.argv[sys.argv.index('--port') + 1])\n"
                  "app.listen(AppListenOptions(port=port, host='127.0.0.1'), lambda c: None)\n"
                  "app.run()\n")


def repro_objects_context(port: int) -> None:
    """objects.* (S10): every aiobotocore call awaited in a handler's first step fails; why, without
    aiobotocore; and the same handler behind one ``await asyncio.sleep(0)``."""
    for extra in ("", "Range: bytes=0-9\r\n"):
        _show_head(f"GET /object/c4097.bin {extra.strip()} (the adapter)",
                   raw(port, _req(port, "/object/c4097.bin", headers=extra), wait=1.5))
    _show_head("GET /object/no-such-key (the adapter)", raw(port, _req(port, "/object/no-such-key"), wait=1.5))
    with _socketify(CONTEXTVAR_APP) as bare:
        for query in ("n=1", "n=2", "n=3&await_first=1"):
            with urllib.request.urlopen(f"http://{HOST}:{bare.port}/cv?{query}", timeout=5) as resp:
                print(f"--- bare socketify app, GET /cv?{query}: {resp.read().decode()[:170]}")
    with _socketify(OBJECT_AFTER_AWAIT) as control:
        for extra in ("", "Range: bytes=0-9\r\n"):
            _show_head(f"control: GET /object/c4097.bin {extra.strip()} (one await asyncio.sleep(0) first)",
                       raw(control.port, _req(control.port, "/object/c4097.bin", headers=extra), wait=1.5))
    print("--- a fresh server: GET /object/m32.bin 12 times, one after another")
    with _socketify() as server:
        answers = []
        for _ in range(12):
            got = raw(server.port, _req(server.port, "/object/m32.bin"), wait=3.0)
            head = _head_of(got)[0]
            answers.append(head.split(b"\r\n")[0].decode()[9:] if head else "no answer in 3 s")
        store = probe(server.port, "resources:")["resources"]["store"]
        print(f"    answers: {answers}\n    then the server holds {len(store)} store connections, with "
              f"{[c['rx'] for c in store]} object bytes unread in them")


def _dechunk(body: bytes) -> bytes:
    out, pos = b"", 0
    while True:
        line_end = body.index(b"\r\n", pos)
        size = int(body[pos:line_end], 16)
        if size == 0:
            return out
        out += body[line_end + 2 : line_end + 2 + size]
        pos = line_end + 2 + size + 2


REPROS = {"head": repro_head, "http10": repro_http10, "headers-first": repro_headers_first,
          "truncation": repro_truncation, "abort-idle": repro_abort_idle,
          "backpressure": repro_backpressure, "sse": repro_sse_bytes, "send-chunk-gc": repro_send_chunk_gc,
          "file-status": repro_file_status, "file-ranges": repro_file_ranges, "file-head": repro_file_head,
          "file-traversal": repro_file_traversal, "file-disposition": repro_file_disposition,
          "file-shrink": repro_file_shrink, "file-gc": repro_file_gc, "objects-context": repro_objects_context}
DOWNLOADS = {name for name in REPROS if name.startswith(("file-", "objects-"))}


def main(names: list[str]) -> None:
    names = names or list(REPROS)
    if DOWNLOADS & set(names):
        from conformance.downloads import ensure
        ensure(files=True, store=True)  # the tree and the store, in os.environ for every server started here
    port = free_port()
    server = ServerProcess([sys.executable, "-m", "adapters.socketify_app", "--host", HOST, "--port", str(port)],
                           HOST, port, name="socketify")
    with server:
        for name in names:
            REPROS[name](port)


if __name__ == "__main__":
    main(sys.argv[1:])
