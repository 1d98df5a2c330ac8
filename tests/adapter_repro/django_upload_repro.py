"""Raw-socket reproductions of what Django 5.2 does with a streamed request body (the uploads contract's
``/upload``: an async view reading ``request.read(64 KiB)`` in a loop; ``/echo``: a ``StreamingHttpResponse``
over the same reads).

    python -m tests.adapter_repro.django_upload_repro [uvicorn daphne]

``ASGIHandler.handle`` first awaits ``read_body(receive)`` (django/core/handlers/asgi.py:174), which calls
``receive()`` until ``more_body`` is false and writes every message into a ``SpooledTemporaryFile``
(asgi.py:256-275, rolled over to disk past ``FILE_UPLOAD_MAX_MEMORY_SIZE``); only then are the request and the
view created. So:

* ``incremental``: while the client pauses half-way, the view has not started: the probe has no record at all;
* ``abort``: a client that leaves mid-body never reaches the view (``read_body`` raises ``RequestAborted`` and
  ``handle`` returns, asgi.py:175-176): no ``start``, no ``aborted``, nothing a view could clean up;
* ``reject``: with ``Expect: 100-continue`` the server is asked for the body by ``read_body`` before the view
  can reject it (uvicorn and daphne answer ``100 Continue``), and the view's 413 comes only after the whole
  body has arrived;
* ``slow``: ``consume_delay`` slows the view, but the server has already taken the whole upload;
* ``echo``: the echo's head and first bytes come only after the last byte of the upload.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.request

from streamspec.launch import ServerProcess, free_port

HOST = "127.0.0.1"
KiB = 1024


def record(port: int, request_id: str) -> dict:
    with urllib.request.urlopen(f"http://{HOST}:{port}/probe?id={request_id}", timeout=5) as resp:
        return json.load(resp)["record"] or {}


def kinds(rec: dict) -> list[str]:
    out = [e["kind"] for e in rec.get("events", [])]
    return [k for i, k in enumerate(out) if k != "piece" or out[i - 1] != "piece"]  # runs of pieces as one


def post_head(target: str, length: int, extra: str = "") -> bytes:
    return f"POST {target} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n{extra}\r\n".encode()


def incremental(port: int) -> None:
    sock = socket.create_connection((HOST, port))
    sock.sendall(post_head("/upload?id=incr", 128 * KiB) + b"a" * 64 * KiB)
    time.sleep(2.0)
    during = kinds(record(port, "incr"))
    sock.sendall(b"b" * 64 * KiB)
    sock.settimeout(3)
    answer = sock.recv(65536)
    sock.close()
    print(f"--- incremental: 64 of 128 KiB sent, paused 2 s: the view's record {during or 'none'}; after the rest: "
          f"{kinds(record(port, 'incr'))}, answer {answer.partition(b'{')[2][:30]!r}")


def abort(port: int) -> None:
    sock = socket.create_connection((HOST, port))
    sock.sendall(post_head("/upload?id=left", 128 * KiB) + b"a" * 64 * KiB)
    time.sleep(0.5)
    sock.close()
    time.sleep(1.0)
    print(f"--- abort: the client left after 64 of 128 KiB: the view's record {kinds(record(port, 'left')) or 'none'}")


def reject(port: int) -> None:
    sock = socket.create_connection((HOST, port))
    sock.sendall(post_head("/upload?id=rej&reject=413", 64 * KiB, "Expect: 100-continue\r\n"))
    sock.settimeout(2.0)
    try:
        first = sock.recv(65536)
    except TimeoutError:
        first = b"<nothing in 2 s>"
    sock.settimeout(2.0)
    try:
        before_body = sock.recv(65536)
    except TimeoutError:
        before_body = b"<nothing more in 2 s>"
    sock.sendall(b"c" * 64 * KiB)
    try:
        after_body = sock.recv(65536)
    except TimeoutError:
        after_body = b"<nothing>"
    sock.close()
    print(f"--- reject: reject=413 with Expect: 100-continue, body held back: first {first[:40]!r}, then "
          f"{before_body[:40]!r}; once the body is sent: {after_body[:40]!r}")


def slow(port: int) -> None:
    total = 16 * 1024 * KiB
    sock = socket.create_connection((HOST, port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * KiB)
    sock.sendall(post_head("/upload?id=slow&consume_delay=5", total))
    t0 = time.monotonic()
    sock.sendall(b"s" * total)
    wrote = time.monotonic() - t0
    rec = record(port, "slow")
    sock.settimeout(30)
    sock.recv(65536)
    sock.close()
    print(f"--- slow: consume_delay=5 ms per 64 KiB: the client wrote all 16 MiB in {wrote:.2f} s; the view had "
          f"then received {rec.get('counters', {}).get('bytes', 0) / 1024 / KiB:.1f} MiB")


def echo(port: int) -> None:
    sock = socket.create_connection((HOST, port))
    sock.sendall(b"POST /echo?id=echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    sock.settimeout(1.0)
    t0 = time.monotonic()
    seen = []
    for piece in (b"a1" * 100, b"b1" * 100, b"c1" * 100):
        sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        try:
            seen.append((round(time.monotonic() - t0, 2), sock.recv(65536)[:24]))
        except TimeoutError:
            seen.append((round(time.monotonic() - t0, 2), b"<nothing>"))
    sock.sendall(b"0\r\n\r\n")
    sock.settimeout(3)
    seen.append((round(time.monotonic() - t0, 2), sock.recv(65536)[:24]))
    sock.close()
    print(f"--- echo: three pieces 1 s apart, then the last chunk; (seconds, bytes) after each: {seen}")


def main(servers: list[str]) -> int:
    for server in servers:
        port = free_port()
        argv = [sys.executable, "-m", "adapters.django_adapter", "--server", server, "--host", HOST, "--port", str(port)]
        with ServerProcess(argv, HOST, port, name=f"django-upload/{server}"):
            print(f"===== django under {server} =====")
            for repro in (incremental, abort, reject, slow, echo):
                repro(port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn", "daphne"]))
