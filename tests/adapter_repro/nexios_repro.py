"""Raw-socket reproductions of the Nexios findings (reports/findings/nexios.md), a few lines each.

Run: ``python tests/adapter_repro/nexios_repro.py [uvicorn|hypercorn|granian ...]`` from the repository
root (default: all three). It starts the adapter (``python -m adapters.nexios_app --server S``) as a real
process, sends hand-written requests over plain sockets and prints the response heads it got. Not
collected by pytest (the name does not start with ``test_``): it is evidence, kept so anyone can re-run it
against a newer Nexios or server.
"""

from __future__ import annotations

import socket
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


def producer_leaked_after_reset(port: int) -> None:
    """N5: a client that stopped reading (the server blocked on backpressure) resets; nothing else
    happens on the server for 3 s; the probe then still counts the producer as running."""
    import json
    import struct

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((HOST, port))
    sock.sendall(b"GET /stream?id=n5&n=4096&size=65536 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(1.5)  # the server fills the socket buffers and blocks in send()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # RST
    time.sleep(3.0)
    _, data = exchange(port, b"GET /probe?id=n5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    probe = json.loads(data.split(b"\r\n\r\n", 1)[1])
    kinds = [e["kind"] for e in probe["record"]["events"]]
    print(f"N5 3 s after the reset: active producers {probe['active']}, last events {kinds[-3:]}, "
          f"cleanup ran: {'cleanup' in kinds}\n")


def main(servers: list[str]) -> int:
    for server in servers:
        port = free_port()
        argv = [sys.executable, "-m", "adapters.nexios_app", "--server", server, "--host", HOST, "--port", str(port)]
        with ServerProcess(argv, HOST, port, name=f"nexios/{server}"):
            print(f"===== nexios under {server} =====")
            for repro in (content_length_dropped, duplicated_headers, http10_chunked, head_waits_for_first_chunk,
                          producer_leaked_after_reset):
                repro(port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn", "hypercorn", "granian"]))
