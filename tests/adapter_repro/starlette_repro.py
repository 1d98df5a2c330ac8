"""Raw-socket reproductions of the Starlette findings (reports/findings/starlette.md), plain and behind a
pass-through BaseHTTPMiddleware. ``python tests/adapter_repro/starlette_repro.py [uvicorn|hypercorn|granian]``."""

from __future__ import annotations

import sys
from urllib.parse import quote

from rawwire import echo_while_sending, error_mid_stream, get, reset_while_blocked, serving, show


def files(port: int) -> None:
    show("ST3 If-None-Match: * on /file/k64.bin", get(port, "/file/k64.bin", headers="If-None-Match: *\r\n"), 0)
    show("ST4 Range: chars=0-1 on /file/k64.bin", get(port, "/file/k64.bin", headers="Range: chars=0-1\r\n"))
    show("ST5 /file/escape.bin (a symlink to ../outside/secret.bin)", get(port, "/file/escape.bin"), 0)
    show("ST6 /file-stream/ with a non-ASCII name", get(port, "/file-stream/" + quote("résumé naïve 名前.bin")))


def main(servers: list[str]) -> int:
    for name in ("starlette", "starlette-mw"):
        for server in servers:
            with serving(name, server) as (port, _tree):
                reset_while_blocked(port, f"ST1/ST8 {name}: reset while blocked on backpressure")
                echo_while_sending(port, f"ST2 {name}: echo while the request body is unfinished")
                error_mid_stream(port, f"ST9 {name}: producer error after 300 bytes")
                if name == "starlette":
                    files(port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn"]))
