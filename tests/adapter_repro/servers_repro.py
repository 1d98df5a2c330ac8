"""Raw-socket reproductions of the plain ASGI idiom's findings under uvicorn, hypercorn and granian
(reports/findings/reference.md, F3-F5), a few lines each.

Run: ``python tests/adapter_repro/servers_repro.py [uvicorn|hypercorn|granian ...]`` from the repository
root (default: all three). For each server it starts ``python -m reference --server S`` twice as a real
process, once with the plain idiom (``reference.plain:app`` plus one extra route, ``/send-after-close``,
defined here) and once with the reference app for comparison, sends hand-written requests over plain
sockets, leaves, and prints what the probe says the producer did afterwards. Not collected by pytest (the
file name does not start with ``test_``): it is evidence, kept so anyone can re-run it against newer
servers.

What it shows, per server: a client that leaves (FIN or RST) is never noticed by the plain idiom. The
app is not cancelled, ``receive()`` is not awaited by it, and ``send`` after the disconnect returns
normally (``/send-after-close``: 1000 sends of 1 KiB after ``receive()`` itself said ``http.disconnect``,
timed, none raising), so a producer runs to its natural end: 30 s later when idle, never for an endless
SSE stream, and as fast as ``send`` returns when it never waits (the rest of a 256 MiB export in
milliseconds on uvicorn and granian, a few hundred on hypercorn).
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from streamspec.launch import ServerProcess, free_port  # noqa: E402

HOST = "127.0.0.1"
THIS_APP = "tests.adapter_repro.servers_repro:app"
_AFTER_CLOSE: dict[str, dict] = {}  # filled inside the server process by send_after_close


# -- the extra route, served in the server process -------------------------------------------------
async def send_after_close(scope, receive, send) -> None:
    """Start a stream, wait until ``receive()`` says the client left, then call ``send`` 1000 times and
    record what each call did (how long they took, whether any raised)."""
    from reference.asgi import query_of

    rid = query_of(scope).get("id", "")
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")]})
    await send({"type": "http.response.body", "body": b"first", "more_body": True})
    while (await receive())["type"] != "http.disconnect":
        pass
    result = {"disconnect_seen": True, "sends_returned": 0, "raised": None}
    _AFTER_CLOSE[rid] = result
    t0 = time.monotonic()
    try:
        for _ in range(1000):
            await send({"type": "http.response.body", "body": b"y" * 1024, "more_body": True})
            result["sends_returned"] += 1
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except BaseException as exc:
        result["raised"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        result["elapsed_ms"] = round((time.monotonic() - t0) * 1000, 2)


async def after_close_result(scope, receive, send) -> None:
    from reference.asgi import query_of, send_json

    await send_json(send, 200, _AFTER_CLOSE.get(query_of(scope).get("id", "")))


def _make_app():
    from reference import plain
    from reference.app import make_app

    return make_app(routes={"/stream": plain.stream, "/sse": plain.sse, "/send-after-close": send_after_close,
                            "/send-after-close-result": after_close_result})


if __name__ != "__main__":  # imported by the server process as THIS_APP
    app = _make_app()


# -- the client side -------------------------------------------------------------------------------
def recv_for(sock: socket.socket, wait: float, limit: int = 1 << 20) -> bytes:
    sock.settimeout(wait)
    data = b""
    try:
        while len(data) < limit and (chunk := sock.recv(65536)):
            data += chunk
    except socket.timeout:
        pass
    return data


def get_json(port: int, target: str):
    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        raw = recv_for(sock, 2.0)
    return json.loads(raw.split(b"\r\n\r\n", 1)[1])


def diary(port: int, rid: str) -> tuple[list[dict], float]:
    """The producer's probe events and the server's clock now (one host: the same monotonic clock)."""
    answer = get_json(port, f"/probe?id={rid}")
    return (answer["record"] or {}).get("events", []), answer["now"]


def describe(events: list[dict], t_left: float) -> str:
    chunks = [e for e in events if e["kind"] == "chunk"]
    after = [e for e in chunks if e["t"] > t_left]
    ended = [f"{e['kind']} +{(e['t'] - t_left) * 1000:.0f} ms" for e in events
             if e["kind"] in ("done", "cancelled", "closed", "error", "cleanup")]
    return f"{len(chunks)} chunks made, {len(after)} after the client left; end: {ended or 'still running'}"


def rst(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def idle_fin(port: int, path: str = "/stream?n=3&size=64&delay=30000") -> None:
    """abort.idle, sse.idle-disconnect: the client closes (FIN) while the producer waits 30 s."""
    rid = f"idle-{time.monotonic_ns()}"
    sock = socket.create_connection((HOST, port))
    sock.sendall(f"GET {path}&id={rid} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = recv_for(sock, 0.5)  # granian holds a byte stream's head until the first chunk (F1)
    t_left = time.monotonic()
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    print(f"  {path.split('?')[0]} idle, FIN after reading {head!r}")
    for wait in (0.5, 3.0):
        time.sleep(max(0.0, t_left + wait - time.monotonic()))
        events, _ = diary(port, rid)
        print(f"    {wait:.1f} s after FIN: {[e['kind'] for e in events]}")


def mid_stream_rst(port: int) -> None:
    """abort.rst-cleanup, abort.stops-producer: reset after 5 chunks of a 3000 x 1 KiB, 2 ms stream."""
    rid = f"rst-{time.monotonic_ns()}"
    sock = socket.create_connection((HOST, port))
    sock.sendall(f"GET /stream?id={rid}&n=3000&size=1024&delay=2 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    data = b""
    sock.settimeout(3.0)
    while data.count(b"\r\n\r\n") < 1 or len(data.split(b"\r\n\r\n", 1)[1]) < 5 * 1024:
        data += sock.recv(65536)
    t_left = time.monotonic()  # taken before the reset: every chunk after it counts against the server
    rst(sock)
    head, body = data.split(b"\r\n\r\n", 1)
    print(f"  /stream 2 ms chunks, RST after {len(body)} body bytes; head {head[:70]!r}")
    time.sleep(1.0)
    events, _ = diary(port, rid)
    print(f"    1.0 s after RST: {describe(events, t_left)}")


def backpressured_rst(port: int) -> None:
    """abort.while-backpressured: a client that never reads (4 KiB buffer) resets a 4096 x 64 KiB stream."""
    rid = f"bp-{time.monotonic_ns()}"
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((HOST, port))
    sock.sendall(f"GET /stream?id={rid}&n=4096&size=65536 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    time.sleep(1.5)  # the server fills the socket buffers; send() blocks; the producer stops
    before = [e for e in diary(port, rid)[0] if e["kind"] == "chunk"]
    t_left = time.monotonic()
    rst(sock)
    time.sleep(2.0)
    events, _ = diary(port, rid)
    print(f"  /stream 4096 x 64 KiB, blocked at {len(before)} chunks ({len(before) / 16:.1f} MiB), RST:")
    print(f"    2.0 s after RST: {describe(events, t_left)}")


def sends_after_close(port: int) -> None:
    """The cause: ``send`` after the client left (and after ``receive()`` said so) returns normally."""
    rid = f"sac-{time.monotonic_ns()}"
    sock = socket.create_connection((HOST, port))
    sock.sendall(f"GET /send-after-close?id={rid} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    got = recv_for(sock, 0.5)
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()
    time.sleep(1.0)
    print(f"  /send-after-close: read {got[-20:]!r}, FIN; then in the app: {get_json(port, f'/send-after-close-result?id={rid}')}")


def main(servers: list[str]) -> int:
    for server in servers:
        for label, target in (("plain idiom", THIS_APP), ("reference, for comparison", "reference.app:app")):
            port = free_port()
            argv = [sys.executable, "-m", "reference", "--server", server, "--app", target, "--host", HOST,
                    "--port", str(port)]
            with ServerProcess(argv, HOST, port, name=f"{server}-repro"):
                print(f"===== {server}: {label} =====")
                idle_fin(port)
                idle_fin(port, "/sse?n=3&interval=30000")
                mid_stream_rst(port)
                backpressured_rst(port)
                if target == THIS_APP:
                    sends_after_close(port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn", "hypercorn", "granian"]))
