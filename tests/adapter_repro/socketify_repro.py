"""Raw-socket reproductions of the socketify.py (native API) findings (reports/findings/socketify.md).

Why raw sockets: each finding is about bytes and timing on the wire, which ordinary clients hide. This
script starts the adapter's server (and the reference for the SSE comparison) as real processes,
prints what arrived and when, and stops them again.

    python -m tests.adapter_repro.socketify_repro            # every repro
    python -m tests.adapter_repro.socketify_repro head http10  # some of them

``send-chunk-gc`` (S8) kills the server it talks to, so it starts servers of its own.
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import sys
import time
import urllib.request

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
          "backpressure": repro_backpressure, "sse": repro_sse_bytes, "send-chunk-gc": repro_send_chunk_gc}


def main(names: list[str]) -> None:
    port = free_port()
    server = ServerProcess([sys.executable, "-m", "adapters.socketify_app", "--host", HOST, "--port", str(port)],
                           HOST, port, name="socketify")
    with server:
        for name in names or list(REPROS):
            REPROS[name](port)


if __name__ == "__main__":
    main(sys.argv[1:])
