"""Raw-socket reproductions of the Litestar findings (reports/findings/litestar.md).
``python tests/adapter_repro/litestar_repro.py [uvicorn|hypercorn|granian]``."""

from __future__ import annotations

import json
import socket
import sys
import time
from urllib.parse import quote

from rawwire import HOST, echo_while_sending, exchange, get, reset, reset_while_blocked, serving, show


def store_connections(port: int) -> list[dict]:
    return json.loads(get(port, "/probe?id=resources:").partition(b"\r\n\r\n")[2])["resources"]["store"]


def abort_objects(port: int, label: str, clients: int = 12) -> None:
    """12 clients each read 64 KiB of the 32 MiB object and reset; then the server's store connections over
    time (unread bytes that grow after the last client left: the object is still being read)."""
    for _ in range(clients):
        sock = socket.create_connection((HOST, port))
        sock.sendall(b"GET /object/m32.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        got = 0
        while got < 65536:
            got += len(sock.recv(65536))
        reset(sock)
    t0 = time.monotonic()
    seen = []
    while time.monotonic() - t0 < 4.0:
        conns = store_connections(port)
        seen.append(f"+{time.monotonic() - t0:.1f}s {len(conns)} conn(s) {sum(c['rx'] for c in conns)} B unread")
        if not conns:
            break
        time.sleep(0.25)
    print(f"--- {label}: after {clients} clients read 64 KiB of /object/m32.bin and reset: " + "; ".join(seen) + "\n")


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
            abort_objects(port, "LS8/LS9 object downloads left mid-body")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn"]))
