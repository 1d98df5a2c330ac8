"""Raw-socket reproductions of the Quart findings (reports/findings/quart.md).
``python tests/adapter_repro/quart_repro.py [hypercorn|uvicorn]``."""

from __future__ import annotations

import sys
from urllib.parse import quote

from rawwire import exchange, get, reset_while_blocked, serving, show


def main(servers: list[str]) -> int:
    for server in servers:
        with serving("quart", server) as (port, _tree):
            reset_while_blocked(port, "QT1 reset while blocked on backpressure")
            show("QT3 POST /upload with Content-Length: 33554432", exchange(
                port, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 33554432\r\n\r\n" + b"u" * 65536))
            show("QT4 Range: bytes=-1 on /file/k64.bin", get(port, "/file/k64.bin", headers="Range: bytes=-1\r\n"))
            show("QT4 Range: chars=0-1 on /file/k64.bin", get(port, "/file/k64.bin", headers="Range: chars=0-1\r\n"))
            show("QT4 Range: bytes=65536- on /file/k64.bin", get(port, "/file/k64.bin", headers="Range: bytes=65536-\r\n"))
            show("QT4 If-Range: \"stale\" with Range: bytes=0-9", get(
                port, "/file/k64.bin", headers="Range: bytes=0-9\r\nIf-Range: \"stale\"\r\n"), 0)
            show("QT5 /file/ with a non-ASCII name", get(port, "/file/" + quote("résumé naïve 名前.bin")), 0)
            show("QT6 /file/escape.bin (a symlink to ../outside/secret.bin)", get(port, "/file/escape.bin"), 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["hypercorn"]))
