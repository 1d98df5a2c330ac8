"""Raw-socket reproductions of the Tornado findings (reports/findings/tornado.md).
``python tests/adapter_repro/tornado_repro.py``."""

from __future__ import annotations

import sys
import time
from urllib.parse import quote

from rawwire import HOST, error_mid_stream, exchange, get, serving, show


def head_waits(port: int) -> None:
    import socket

    with socket.create_connection((HOST, port)) as sock:
        sock.sendall(b"GET /stream?n=2&size=4&delay=1500 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        t0 = time.monotonic()
        sock.recv(1)
        print(f"--- TN2 first response byte {1000 * (time.monotonic() - t0):.0f} ms after the request "
              f"(producer's first chunk due at 1500 ms)\n")


def main(servers: list[str]) -> int:
    with serving("tornado", "tornado") as (port, _tree):
        show("TN1 HEAD /stream?n=2&size=4", get(port, "/stream?n=2&size=4", method="HEAD"))
        head_waits(port)
        error_mid_stream(port, "TN3 producer error after 300 bytes")
        show("TN4 If-Range: \"stale\" with Range: bytes=0-9", get(
            port, "/file/k64.bin", headers="Range: bytes=0-9\r\nIf-Range: \"stale\"\r\n"), 0)
        show("TN5 /file/ with a non-ASCII name", get(port, "/file/" + quote("résumé naïve 名前.bin")))
        show("TN6 /file/..%00/outside/secret.bin", get(port, "/file/..%00/outside/secret.bin"))
        show("TN6 /file-stream/..%2Foutside%2Fsecret.bin", get(port, "/file-stream/..%2Foutside%2Fsecret.bin"), 0)
        show("TN7 POST /upload with Content-Length: 536870912", exchange(
            port, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 536870912\r\n\r\n" + b"u" * 65536))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
