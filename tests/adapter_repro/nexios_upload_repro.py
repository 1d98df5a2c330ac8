"""Raw-socket reproduction of what Nexios 3.12.3 does to ``POST /echo`` (the uploads contract, served as
the request guide's ``async for chunk in req.stream()`` inside the streaming guide's ``response.stream()``).

    python -m tests.adapter_repro.nexios_upload_repro [uvicorn hypercorn granian]

``StreamingResponse.__call__`` (nexios/http/response.py:648-668), for every server whose ASGI
``spec_version`` is below 2.4 (uvicorn 2.3, hypercorn 2.1, granian), runs ``listen_for_disconnect(receive)``
(response.py:626-630) beside the body iterator: a loop that calls ``receive()`` and throws away every message
that is not ``http.disconnect``. The handler's ``req.stream()`` calls the same ``receive()``, so each body
message goes to whichever of the two asks first: the echo loses pieces (and the upload's end, so it can
hang), and the discarding loop keeps reading the socket, so nothing pushes back on the client. Starlette's
``StreamingResponse`` has the same loop and the same effect: ``StreamingResponse(request.stream())``
answers ``b''`` (django/asgiref#419). ``/upload`` (no response while reading) is not affected.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.request

from streamspec.launch import ServerProcess, free_port
from streamspec.uploads import echo_transform

HOST = "127.0.0.1"


def probe(port: int, request_id: str) -> dict:
    with urllib.request.urlopen(f"http://{HOST}:{port}/probe?id={request_id}", timeout=5) as resp:
        return json.load(resp)["record"] or {}


def echo_pieces(port: int) -> None:
    pieces = [b"one 1 " * 8, b"two 11 " * 8, b"three 111 " * 8, b"four 1111 " * 8]
    sock = socket.create_connection((HOST, port))
    sock.sendall(b"POST /echo?id=pieces HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    sock.settimeout(0.5)
    got = b""
    t0 = time.monotonic()
    for piece in pieces:
        sock.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        time.sleep(0.3)
        try:
            got += sock.recv(65536)
        except TimeoutError:
            pass
    sock.sendall(b"0\r\n\r\n")
    sock.settimeout(3.0)
    try:
        while not got.endswith(b"0\r\n\r\n"):
            data = sock.recv(65536)
            if not data:
                break
            got += data
        ending = "complete" if got.endswith(b"0\r\n\r\n") else "closed"
    except TimeoutError:
        ending = "no end within 3 s"
    sock.close()
    body = got.partition(b"\r\n\r\n")[2]
    echoed = [piece for piece in pieces if echo_transform(piece) in body]
    record = probe(port, "pieces")
    print(f"--- echo: 4 pieces sent 0.3 s apart ({time.monotonic() - t0:.1f} s); echoed back: "
          f"{len(echoed)} of 4 ({[p[:6] for p in echoed]}); the response: {ending}; the handler's req.stream() "
          f"received {record.get('counters', {}).get('bytes', 0)} of {sum(map(len, pieces))} bytes")


def echo_empty(port: int) -> None:
    sock = socket.create_connection((HOST, port))
    sock.sendall(b"POST /echo?id=empty HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    sock.settimeout(3.0)
    got = b""
    try:
        while not got.endswith(b"0\r\n\r\n"):
            data = sock.recv(65536)
            if not data:
                break
            got += data
        ending = "complete"
    except TimeoutError:
        ending = "not finished within 3 s"
    sock.close()
    kinds = [e["kind"] for e in probe(port, "empty").get("events", [])]
    print(f"--- echo of an empty body: {ending}; {got[:40]!r}...; the handler's record {kinds}")


def echo_stalled(port: int) -> None:
    sock = socket.create_connection((HOST, port))
    sock.sendall(b"POST /echo?id=stall HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    sock.settimeout(1.0)
    block = b"1" * (1 << 20)
    sent = 0
    try:
        while sent < 48 << 20:
            sock.sendall(b"%x\r\n" % len(block) + block + b"\r\n")
            sent += len(block)
        held = "never"
    except TimeoutError:
        held = f"after {sent >> 20} MiB"
    received = probe(port, "stall").get("counters", {}).get("bytes", 0)
    sock.close()
    print(f"--- echo, a client that reads nothing: its writes blocked {held}; the handler received "
          f"{received / (1 << 20):.1f} MiB of {sent >> 20} MiB written (the rest was read and discarded)")


def main(servers: list[str]) -> int:
    for server in servers:
        port = free_port()
        argv = [sys.executable, "-m", "adapters.nexios_app", "--server", server, "--host", HOST, "--port", str(port)]
        with ServerProcess(argv, HOST, port, name=f"nexios-upload/{server}"):
            print(f"===== nexios under {server} =====")
            echo_pieces(port)
            echo_empty(port)
            echo_stalled(port)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn", "hypercorn", "granian"]))
