"""Raw-socket reproductions of the Litestar findings (reports/findings/litestar.md).
``python tests/adapter_repro/litestar_repro.py [uvicorn|hypercorn|granian]``."""

from __future__ import annotations

import sys
from urllib.parse import quote

from rawwire import echo_while_sending, exchange, get, reset_while_blocked, serving, show


def main(servers: list[str]) -> int:
    for server in servers:
        with serving("litestar", server) as (port, _tree):
            show("LS1 HEAD /stream?n=2&size=4", get(port, "/stream?n=2&size=4", method="HEAD"))
            reset_while_blocked(port, "LS2 reset while blocked on backpressure")
            echo_while_sending(port, "LS3 echo while the request body is unfinished")
            show("LS4 If-None-Match: * on /file/k64.bin", get(port, "/file/k64.bin", headers="If-None-Match: *\r\n"), 0)
            show("LS4 Range: bytes=0-9 on /file/k64.bin", get(port, "/file/k64.bin", headers="Range: bytes=0-9\r\n"), 0)
            show("LS5 /file/escape.bin (a symlink to ../outside/secret.bin)", get(port, "/file/escape.bin"), 0)
            show("LS6 /file-stream/ with a non-ASCII name", get(port, "/file-stream/" + quote("résumé naïve 名前.bin")))
            show("LS7 POST /upload with Content-Length: 33554432", exchange(
                port, b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 33554432\r\n\r\n" + b"u" * 65536))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn"]))
