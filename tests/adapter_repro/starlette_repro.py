"""Raw-socket reproductions of the Starlette findings (reports/findings/starlette.md), plain and behind a
pass-through BaseHTTPMiddleware. ``python tests/adapter_repro/starlette_repro.py [uvicorn|hypercorn|granian]``;
ST7/ST8 (aborted downloads and the garbage collector): ``python tests/adapter_repro/starlette_repro.py st7|st8
[SERVER ...]``."""

from __future__ import annotations

import json
import socket
import sys
import time
from urllib.parse import quote

from rawwire import HOST, echo_while_sending, error_mid_stream, get, reset, reset_while_blocked, serving, show


async def gc_app(scope, receive, send, mw: bool = False):
    """The ``starlette`` (or ``starlette-mw``) adapter's app, plus ``GET /gc`` (runs ``gc.collect()``): ST7, ST8."""
    from streamspec.adapters import starlette_app

    app = starlette_app.app_mw if mw else starlette_app.app
    if scope["type"] == "http" and scope["path"] == "/gc":
        import gc

        body = str(gc.collect()).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
        return
    await app(scope, receive, send)


async def gc_app_mw(scope, receive, send):
    await gc_app(scope, receive, send, mw=True)


def _blocked_download(port: int, read: int) -> socket.socket:
    """A client with a 4 KiB receive buffer that asks for the 256 MiB file and reads ``read`` bytes."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((HOST, port))
    sock.sendall(b"GET /file-stream/m256.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    got = 0
    while got < read and (chunk := sock.recv(65536)):
        got += len(chunk)
    return sock


def st7_gc(server: str, mw: bool = False, singles: int = 8, downloads: int = 100) -> None:
    """ST7 (ST8 with ``mw``): leave streamed downloads mid-body (as files.abort and files.abort-many do);
    what stays open, and does a gc.collect() release it?"""
    name = "ST8 starlette-mw" if mw else "ST7 starlette"
    app = f"starlette_repro:gc_app{'_mw' if mw else ''}"
    with serving("starlette-mw" if mw else "starlette", server, app=app) as (port, _tree):

        def still_open() -> int:
            data = get(port, "/probe?id=resources:")
            return len(json.loads(data.partition(b"\r\n\r\n")[2])["resources"]["open"])

        def collect() -> str:
            return get(port, "/gc").partition(b"\r\n\r\n")[2].decode()

        for attempt in range(singles):  # as files.abort: 64 KiB read, reset, watched for 3 s
            reset(_blocked_download(port, 65536))
            left = time.monotonic()
            while still_open() and time.monotonic() - left < 3.0:
                time.sleep(0.1)
            took, held = time.monotonic() - left, still_open()
            if held:
                found = collect()
                time.sleep(0.2)
                outcome = f"still open after {took:.1f} s; gc.collect() found {found} objects, then {still_open()} open"
            else:
                outcome = f"closed {took * 1000:.0f} ms after the reset"
            print(f"--- {name} under {server}, single abort {attempt + 1}: {outcome}")
        for _batch in range(downloads // 10):  # as files.abort-many: ten at a time
            socks = [_blocked_download(port, 1) for _ in range(10)]
            time.sleep(0.2)
            for sock in socks:
                reset(sock)
        time.sleep(3.5)
        before = still_open()
        found = collect()
        time.sleep(0.5)
        print(f"--- {name} under {server}: {downloads} /file-stream downloads reset while blocked, ten at a "
              f"time; 3.5 s later {before} still hold m256.bin open; gc.collect() found {found} objects; "
              f"0.5 s after it {still_open()} open\n")


def files(port: int) -> None:
    show("ST3 If-None-Match: * on /file/k64.bin", get(port, "/file/k64.bin", headers="If-None-Match: *\r\n"), 0)
    show("ST4 Range: chars=0-1 on /file/k64.bin", get(port, "/file/k64.bin", headers="Range: chars=0-1\r\n"))
    show("ST5 /file/escape.bin (a symlink to ../outside/secret.bin)", get(port, "/file/escape.bin"), 0)
    show("ST6 /file-stream/ with a non-ASCII name", get(port, "/file-stream/" + quote("résumé naïve 名前.bin")))


def sse_defaults(port: int) -> None:
    """Not a finding: sse-starlette's defaults on the wire (headers, CRLF framing, its ping as a comment)."""
    show("SSE /sse?n=2&interval=700&keepalive=500&retry=3000 (sse-starlette defaults)",
         get(port, "/sse?n=2&interval=700&keepalive=500&retry=3000", wait=3.0), 400)


def main(args: list[str]) -> int:
    if args and args[0] in ("st7", "st8"):
        for server in args[1:] or ["granian"]:
            st7_gc(server, mw=args[0] == "st8")
        return 0
    for name in ("starlette", "starlette-mw"):
        for server in args or ["uvicorn"]:
            with serving(name, server) as (port, _tree):
                reset_while_blocked(port, f"ST1/ST8 {name}: reset while blocked on backpressure")
                echo_while_sending(port, f"ST2 {name}: echo while the request body is unfinished")
                error_mid_stream(port, f"ST9 {name}: producer error after 300 bytes")
                if name == "starlette":
                    files(port)
                    sse_defaults(port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
