"""Raw-socket reproductions of the Quart findings (reports/findings/quart.md).

``python tests/adapter_repro/quart_repro.py [hypercorn|uvicorn ...] [--timeout]`` from the repository root
(default: hypercorn). It starts the adapter under the server with a fixture tree and a store
(``rawwire.serving``), sends hand-written bytes and prints what came back. ``--timeout`` adds the
``RESPONSE_TIMEOUT`` note (about 65 s per server): a stream that outlives 60 s and a stalled 256 MiB download.
Evidence, not a test (not collected by pytest).
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import time
from urllib.parse import quote

from rawwire import HOST, exchange, get, probe, reset, reset_while_blocked, serving, show

MiB = 1024 * 1024


def echo_not_read(port: int, label: str) -> None:
    """QT2: a chunked upload to /echo whose echo the client never reads: is the client ever held?"""
    rid = f"repro-echo-{time.monotonic_ns()}"
    sock = socket.create_connection((HOST, port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.sendall(f"POST /echo?id={rid} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode())
    piece = b"e" * MiB
    sent, t0 = 0, time.monotonic()
    sock.settimeout(2.0)  # a send blocked 2 s counts as held
    try:
        while sent < 48 * MiB:
            sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
            sent += len(piece)
        held = "never held"
    except socket.timeout:
        held = "held"
    seconds = time.monotonic() - t0
    counters = probe(port, rid).get("counters", {})
    print(f"--- {label}: client wrote {sent / MiB:.0f} MiB in {seconds:.2f} s without reading ({held}); "
          f"the handler received {int(counters.get('bytes', 0)) / MiB:.1f} MiB")
    sock.settimeout(3.0)
    data = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(1 << 20):
            data += chunk
    head = data.partition(b"\r\n\r\n")[0].decode("latin-1").splitlines()[:1]
    ending = "terminating chunk" if data.endswith(b"0\r\n\r\n") else "no terminating chunk"
    print(f"    then reading: {head}, {len(data)} bytes, last {data[-12:]!r} ({ending})\n")
    reset(sock)


def response_timeout(port: int, label: str) -> None:
    """RESPONSE_TIMEOUT (60 s): a stream that outlives it, and a 256 MiB download whose reader stalls 62 s."""
    out: dict[str, str] = {}

    def slow_stream() -> None:
        t0 = time.monotonic()
        data = get(port, "/stream?n=70&size=16&delay=1000", wait=70.0)
        ending = "terminating chunk" if data.endswith(b"0\r\n\r\n") else "no terminating chunk"
        body = data.partition(b"\r\n\r\n")[2]
        out["stream"] = (f"GET /stream?n=70&size=16&delay=1000 (a 16-byte chunk a second for 70 s): {len(body)} "
                         f"body bytes (22 a chunk on the wire), connection closed after {time.monotonic() - t0:.1f} "
                         f"s, {ending}, last {data[-24:]!r}")

    def stalled_download() -> None:
        sock = socket.create_connection((HOST, port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(b"GET /file/m256.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        time.sleep(62)
        t0, total = time.monotonic(), 0
        sock.settimeout(5)
        with contextlib.suppress(OSError):
            while chunk := sock.recv(1 << 20):
                total += len(chunk)
        sock.close()
        out["file"] = (f"GET /file/m256.bin (Content-Length 268435456), nothing read for 62 s, then read to the "
                       f"end: {total} bytes incl. head, closed {time.monotonic() - t0:.1f} s after reading began")

    threads = [threading.Thread(target=slow_stream), threading.Thread(target=stalled_download)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"--- {label}:\n    {out.get('stream')}\n    {out.get('file')}\n")


def main(argv: list[str]) -> int:
    servers = [a for a in argv if not a.startswith("--")] or ["hypercorn"]
    for server in servers:
        with serving("quart", server) as (port, _tree):
            reset_while_blocked(port, "QT1 chunked: reset while blocked on backpressure")
            reset_while_blocked(port, "QT1 Content-Length: reset while blocked on backpressure", cl=True)
            echo_not_read(port, "QT2 POST /echo, 48 MiB chunked, echo never read")
            show("QT3 POST /upload with Content-Length: 33554432", exchange(
                port, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 33554432\r\n\r\n" + b"u" * 65536))
            show("QT4 Range: bytes=-1 on /file/k64.bin", get(port, "/file/k64.bin", headers="Range: bytes=-1\r\n"))
            show("QT4 Range: chars=0-1 on /file/k64.bin", get(port, "/file/k64.bin", headers="Range: chars=0-1\r\n"))
            show("QT4 Range: bytes=0-1,4-5 on /file/k64.bin",
                 get(port, "/file/k64.bin", headers="Range: bytes=0-1,4-5\r\n"))
            show("QT4 Range: bytes=65536- on /file/k64.bin", get(port, "/file/k64.bin", headers="Range: bytes=65536-\r\n"))
            plain = get(port, "/file/k64.bin", method="HEAD")
            show("QT4 HEAD /file/k64.bin (no Accept-Ranges)", plain, 0)
            etag = next((line.split(b":", 1)[1].strip().decode() for line in plain.split(b"\r\n")
                         if line.lower().startswith(b"etag:")), '"?"')
            show(f"QT4 Range: bytes=0-9 with If-Range: W/{etag} (the weak form of the current ETag)",
                 get(port, "/file/k64.bin", headers=f"Range: bytes=0-9\r\nIf-Range: W/{etag}\r\n"), 0)
            name = quote("résumé naïve 名前.bin")
            show("QT5 /file/ with a non-ASCII name", get(port, "/file/" + name, method="HEAD"), 0)
            show("QT5 /file-stream/ with a non-ASCII name", get(port, "/file-stream/" + name, method="HEAD"), 0)
            show("QT6 /file/escape.bin (a symlink to ../outside/secret.bin)", get(port, "/file/escape.bin"), 0)
            if "--timeout" in argv:
                response_timeout(port, "RESPONSE_TIMEOUT (note)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
