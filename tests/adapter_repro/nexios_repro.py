"""Raw-socket reproductions of the Nexios findings (reports/findings/nexios.md), a few lines each.

Run: ``python tests/adapter_repro/nexios_repro.py [uvicorn|hypercorn|granian ...]`` from the repository
root (default: all three). It starts the adapter (``python -m adapters.nexios_app --server S``) as a real
process, sends hand-written requests over plain sockets and prints the response heads it got. Not
collected by pytest (the name does not start with ``test_``): it is evidence, kept so anyone can re-run it
against a newer Nexios or server. The probe's times are ``time.monotonic()`` in the server process, the same
clock as this script's on one host, so "after the reset" is measured directly.
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


def exchange(port: int, request: bytes, wait: float = 2.0) -> tuple[float, bytes]:
    """Send ``request``; return (seconds until the first response byte, everything until close/idle)."""
    with socket.create_connection((HOST, port)) as sock:
        t0 = time.monotonic()
        sock.sendall(request)
        sock.settimeout(wait)
        data, first = b"", None
        try:
            while chunk := sock.recv(65536):
                first = first if first is not None else time.monotonic() - t0
                data += chunk
        except socket.timeout:
            pass
    return (first if first is not None else float("nan")), data


def head_of(data: bytes) -> str:
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def content_length_dropped(port: int) -> None:
    """N1: Content-Length passed to response.stream(headers=...) is removed; the body goes out chunked."""
    _, data = exchange(port, b"GET /stream?n=2&size=4&cl=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print("N1 GET /stream?n=2&size=4&cl=1 (handler passed Content-Length: 8)\n" + head_of(data) + "\n")


def duplicated_headers(port: int) -> None:
    """N2: every header of a StreamingResponse goes out twice (content-type is a singleton field)."""
    _, data = exchange(port, b"GET /sse?n=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print("N2 GET /sse?n=1\n" + head_of(data) + "\n")


def http10_chunked(port: int) -> None:
    """N3: an HTTP/1.0 request for a stream of unknown length is answered with chunked coding."""
    _, data = exchange(port, b"GET /stream?n=2&size=4 HTTP/1.0\r\nHost: x\r\n\r\n")
    print("N3 GET /stream?n=2&size=4 HTTP/1.0\n" + repr(data) + "\n")


def head_waits_for_first_chunk(port: int) -> None:
    """N4: with the first chunk 1 s late, when does the response head arrive?"""
    first, data = exchange(port, b"GET /stream?n=1&size=4&delay=1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print(f"N4 GET /stream?n=1&size=4&delay=1000: first response byte after {first:.3f}s: {data[:40]!r}\n")


def probe(port: int, request_id: str | None = None) -> dict:
    """``GET /probe[?id=]`` on its own connection: the producers' diary (``active``, ``record``)."""
    target = f"/probe?id={request_id}" if request_id else "/probe"
    _, data = exchange(port, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


def reset(sock: socket.socket) -> float:
    """Close with SO_LINGER 0 (RST); the time of the reset."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    t = time.monotonic()
    sock.close()
    return t


def producer_leaked_after_reset(port: int) -> None:
    """N5 (abort.while-backpressured.*): a client that stopped reading (the server blocked on backpressure)
    resets; nothing else happens on the server for 3 s; the probe then still counts the producer as
    running, with no cleanup. Both framings (``cl=1`` is chunked on the wire too: N1). Under granian the
    producer first runs on for a few dozen chunks after the reset (granian swallows sends to a closed
    connection) before Nexios's disconnect listener cancels it, inside a send again."""
    for framing, extra in (("chunked", ""), ("length", "&cl=1")):
        rid = f"n5-{framing}-{time.monotonic_ns()}"
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((HOST, port))
        sock.sendall(f"GET /stream?id={rid}&n=4096&size=65536{extra} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(1.5)  # the server fills the socket buffers and blocks in send()
        t_reset = reset(sock)
        time.sleep(3.0)
        answer = probe(port, rid)
        events = answer["record"]["events"]
        kinds = [e["kind"] for e in events]
        chunks = [e for e in events if e["kind"] == "chunk"]
        after = [e for e in chunks if e["t"] > t_reset]
        print(f"N5 {framing}: 3 s after the reset: active producers {answer['active']}, "
              f"{len(chunks) - len(after)} chunks made before the reset, {len(after)} after, "
              f"last events {kinds[-2:]}, cleanup ran: {'cleanup' in kinds}")
    print()


def aborted_producers_left_running(port: int, streams: int = 100) -> None:
    """N6 (abort.healthy-after-100.*): ``streams`` streams with a chunk every 20 ms, each left after its
    first chunk (odd ones FIN, even ones RST), as the case does; nothing else for 5 s; then how each
    producer ended, and when (the probe's ``active`` count is not used: N5's leftovers would blur it).
    ``cancelled``: Nexios's cancellation landed in the producer's own ``await asyncio.sleep`` (cleanup at
    once). ``closed``: it landed inside Nexios's ``send``, so nothing called ``aclose()`` and the generator
    was closed only when the garbage collector finalised it (N5's path, hit by chance): the delay is
    whenever the collector next ran. Run it twice and the count not closed after 5 s changes: a race."""
    base = f"n6-{time.monotonic_ns()}"
    socks = []
    for i in range(streams):
        sock = socket.create_connection((HOST, port))
        sock.sendall(f"GET /stream?id={base}-{i}&n=1000&size=512&delay=20 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        socks.append(sock)
    left_at = []
    for i, sock in enumerate(socks):
        got = b""
        while b"\r\n\r\n" not in got or len(got.split(b"\r\n\r\n", 1)[1]) < 512 + 5:  # "200\r\n" + chunk 0
            got += sock.recv(65536)
        if i % 2:
            left_at.append(time.monotonic())
            sock.close()  # FIN
        else:
            left_at.append(reset(sock))
    time.sleep(5.0)
    ends: dict[str, list[float]] = {"cancelled": [], "closed": []}
    running = 0
    for i, t_left in enumerate(left_at):
        events = probe(port, f"{base}-{i}")["record"]["events"]
        end = next((e for e in events if e["kind"] in ("cancelled", "closed", "done", "error")), None)
        if end is None:
            running += 1
        else:
            ends.setdefault(end["kind"], []).append(round(end["t"] - t_left, 3))
    closed = sorted(ends["closed"])
    late = [t for t in closed if t > 5.0]
    early = [t for t in closed if t <= 5.0]
    print(f"N6 {streams} streams left after their first chunk; {len(late) + running} producers not closed 5 s "
          f"later. Per stream: 'cancelled' (cleanup at once) {len(ends['cancelled'])}, at most "
          f"{max(ends['cancelled'], default=0) * 1000:.0f} ms after the client left; 'closed' by the garbage "
          f"collector {len(closed)}: {len(early)} within {max(early, default=0):.3f} s, {len(late)} only after "
          f"{min(late, default=0):.3f}-{max(late, default=0):.3f} s (when this script's probe requests made the "
          f"collector run); not closed even then: {running}\n")


def main(servers: list[str]) -> int:
    for server in servers:
        port = free_port()
        argv = [sys.executable, "-m", "adapters.nexios_app", "--server", server, "--host", HOST, "--port", str(port)]
        with ServerProcess(argv, HOST, port, name=f"nexios/{server}"):
            print(f"===== nexios under {server} =====")
            for repro in (content_length_dropped, duplicated_headers, http10_chunked, head_waits_for_first_chunk,
                          producer_leaked_after_reset, aborted_producers_left_running):
                repro(port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn", "hypercorn", "granian"]))
