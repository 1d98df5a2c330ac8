"""Raw-socket reproductions of the Django adapter's findings (reports/findings/django.md), a few lines each.

Run: ``python tests/adapter_repro/django_repro.py [uvicorn|daphne ...]`` from the repository root (default:
both). It builds a fixture tree and starts the S3 store (``conformance.store``), starts the adapter's
server as a real process (the adapter's own command: ``python -m uvicorn adapters.django_app:application
--http h11`` or ``python -m daphne ... adapters.django_app:application``), sends hand-written requests
over plain sockets and prints what came back, and what the probe saw. Not collected by pytest (the name
does not start with ``test_``): it is evidence, kept so anyone can re-run it against a newer Django,
daphne or django-fileresponse. The server runs with no memory limit (the adapter sets none), and D2 reads
whole files into memory: its four concurrent 256 MiB downloads grow the server by about 0.8 GiB.

It also declares ``REFERENCE_ON_DAPHNE``, the reference app (``reference.app:app``) served by daphne, so the
suite can tell daphne's behaviour from Django's::

    pytest conformance --adapter=tests.adapter_repro.django_repro:REFERENCE_ON_DAPHNE --server=daphne

``D5`` (the seed's ``/object`` as released) runs in this process: it calls the unmodified
``fileresponse.http.AiobotocoreFileResponse.stream`` with a recording ``send``.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from streamspec.adapter import Adapter, LaunchOptions  # noqa: E402

HOST = "127.0.0.1"


def _reference_on_daphne(options: LaunchOptions) -> list[str]:
    return [options.python, "-m", "daphne", "-b", options.host, "-p", str(options.port), "reference.app:app",
            *options.extra_args]


REFERENCE_ON_DAPHNE = Adapter(
    name="reference-daphne",
    description="the pure-ASGI reference app served by daphne (to tell daphne's behaviour from Django's)",
    command=_reference_on_daphne,
    servers=("daphne",),
    packages=("daphne", "twisted"),
    modules=("daphne",),
    idiom="raw ASGI: one http.response.body message per chunk, a task watching receive() for disconnect",
)


# -- wire helpers -------------------------------------------------------------------------------------
def exchange(port: int, request: bytes, wait: float = 2.0, rcvbuf: int | None = None) -> tuple[float, bytes]:
    """Send ``request``; return (seconds until the first response byte, everything until close/idle)."""
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.connect((HOST, port))
    with sock:
        t0 = time.monotonic()
        sock.sendall(request)
        sock.settimeout(wait)
        data, first = b"", None
        try:
            while chunk := sock.recv(65536):
                first = first if first is not None else time.monotonic() - t0
                data += chunk
        except TimeoutError:
            pass
    return (first if first is not None else float("nan")), data


def get(target: str, method: str = "GET", close: bool = False, headers: str = "") -> bytes:
    conn = "Connection: close\r\n" if close else ""
    return f"{method} {target} HTTP/1.1\r\nHost: x\r\n{conn}{headers}\r\n".encode()


def head_of(data: bytes) -> str:
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def after_head(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""


def probe(port: int, request_id: str) -> dict:
    _, data = exchange(port, get(f"/probe?id={request_id}", close=True))
    return json.loads(after_head(data))


def resources_view(port: int) -> dict:
    return probe(port, "resources:")["resources"]


def reset(sock: socket.socket) -> float:
    """Close with SO_LINGER 0 (RST); the time of the reset."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    t = time.monotonic()
    sock.close()
    return t


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


# -- Django (both servers) ------------------------------------------------------------------------------
def producer_runs_on(port: int, server: str) -> None:
    """D1 (abort.while-backpressured.*): a 256 MiB stream whose producer never waits; the client stops
    reading (4 KiB receive buffer), the server blocks in send, the client resets. On uvicorn ``send`` then
    returns at once (a no-op after a disconnect, as the ASGI spec says) and never suspends, nor does the
    producer, so Django's disconnect listener task never runs until the whole stream is produced."""
    rid = f"d1-{time.monotonic_ns()}"
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((HOST, port))
    sock.sendall(get(f"/stream?id={rid}&n=4096&size=65536"))
    time.sleep(1.5)
    before = sum(1 for e in probe(port, rid)["record"]["events"] if e["kind"] == "chunk")
    t_reset = reset(sock)
    time.sleep(2.0)
    events = probe(port, rid)["record"]["events"]
    chunks = [e for e in events if e["kind"] == "chunk"]
    end = next((e for e in events if e["kind"] in ("done", "cancelled", "closed", "error")), None)
    print(f"D1 [{server}] 256 MiB stream, client reset while blocked: {before} chunks before the reset, "
          f"{len(chunks) - before} after; the producer ended with {end and end['kind']!r} "
          f"{(end['t'] - t_reset) * 1000 if end else float('nan'):.1f} ms after the reset\n")


def file_read_whole(port: int, server: str, pid: int) -> None:
    """D2 (files.stalled-memory.native, files.download.native): FileResponse under ASGI. A client that
    reads nothing: when does the head come, how much does the server's RSS grow, and how many file
    descriptors does it hold?"""
    base = rss_mib(pid)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((HOST, port))
    t0 = time.monotonic()
    sock.sendall(get("/file/m256.bin"))
    sock.settimeout(10)
    first = sock.recv(200)
    t_first = time.monotonic() - t0
    time.sleep(1.0)
    grown = rss_mib(pid) - base
    print(f"D2 [{server}] GET /file/m256.bin, client reads nothing: first response bytes after {t_first:.2f} s "
          f"({first[:15]!r}); 1 s later the server's RSS grew {grown:.0f} MiB (file 256 MiB)")
    reset(sock)
    time.sleep(1.0)
    socks = []
    base = rss_mib(pid)
    for _ in range(4):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((HOST, port))
        s.sendall(get("/file/m256.bin"))
        socks.append(s)
    time.sleep(6.0)
    print(f"D2 [{server}] four such downloads at once: RSS grew {rss_mib(pid) - base:.0f} MiB")
    for s in socks:
        reset(s)
    time.sleep(1.0)
    print()


def symlink_served(port: int, server: str, tree: Path) -> None:
    """D3 (files.traversal.*): escape.bin is a symlink inside the root to ../outside/secret.bin."""
    before = resources_view(port)["opened"].get("outside/secret.bin", 0)
    secret = (tree / "outside" / "secret.bin").read_bytes()
    for route in ("/file/escape.bin", "/file-stream/escape.bin"):
        _, data = exchange(port, get(route, close=True))
        body = after_head(data)
        if b"transfer-encoding: chunked" in data.lower().split(b"\r\n\r\n")[0]:
            body = _dechunk(body)
        print(f"D3 [{server}] GET {route} -> {head_of(data).splitlines()[0]}, {len(body)} body bytes, "
              f"equal to outside/secret.bin: {body == secret}")
    for route in ("/file/..%2Foutside%2Fsecret.bin", "/file/..", "/file/%2Fetc%2Fpasswd"):
        _, data = exchange(port, get(route, close=True))
        print(f"D3 [{server}] GET {route} -> {head_of(data).splitlines()[0]}")
    after = resources_view(port)["opened"].get("outside/secret.bin", 0)
    print(f"D3 [{server}] the probe: the server opened outside/secret.bin {after - before} time(s)\n")


def no_validators_no_ranges(port: int, server: str) -> None:
    """D4 (files.validators, files.range.supported, files.conditional): FileResponse's head, a Range, and
    If-None-Match: *."""
    _, data = exchange(port, get("/file/k64.bin", close=True))
    print(f"D4 [{server}] GET /file/k64.bin\n{head_of(data)}")
    _, data = exchange(port, get("/file/k64.bin", close=True, headers="Range: bytes=0-9\r\n"))
    print(f"D4 [{server}] GET /file/k64.bin with Range: bytes=0-9 -> {head_of(data).splitlines()[0]}, "
          f"{len(after_head(data))} body bytes")
    _, data = exchange(port, get("/file/k64.bin", close=True, headers="If-None-Match: *\r\n"))
    print(f"D4 [{server}] GET /file/k64.bin with If-None-Match: * -> {head_of(data).splitlines()[0]}\n")


# -- the seed library -----------------------------------------------------------------------------------
def seed_object_as_released(endpoint: str) -> None:
    """D5: django-fileresponse 0.1.0's AiobotocoreFileResponse.stream, unmodified, on today's aiobotocore."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adapters.django_settings")
    import aiobotocore
    import django
    from importlib.metadata import version

    django.setup()
    from fileresponse.http import AiobotocoreFileResponse

    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    response = AiobotocoreFileResponse("streamspec", "one.bin", chunk_size=4096, endpoint_url=endpoint)
    print(f"D5 django-fileresponse {version('django-fileresponse')}, aiobotocore {aiobotocore.__version__}, "
          f"django {django.__version__}: AiobotocoreFileResponse('streamspec', 'one.bin').stream(send)")
    try:
        asyncio.run(response.stream(send))
        print(f"D5 it ran: {len(sent)} ASGI messages")
    except AttributeError:  # the break itself; anything else propagates
        print("D5 " + "".join(traceback.format_exc().splitlines(keepends=True)[-4:]).rstrip())
    print(f"D5 messages sent before the error: {sent}\n")


def seed_file_stream(port: int, server: str, pid: int) -> None:
    """D6, D7 (files.headers.streamed, files.download.streamed): the seed's AiofileFileResponse."""
    _, data = exchange(port, get("/file-stream/notes.txt", close=True))
    print(f"D6 [{server}] GET /file-stream/notes.txt (3000 bytes of text)\n{head_of(data)}")
    _, data = exchange(port, get("/file-stream/empty.bin", close=True))
    print(f"D6 [{server}] GET /file-stream/empty.bin: the body on the wire {after_head(data)!r}")
    base = rss_mib(pid)
    t0 = time.monotonic()
    sock = socket.create_connection((HOST, port))
    sock.sendall(get("/file-stream/m256.bin", close=True))
    got, peak = 0, 0.0
    while chunk := sock.recv(1 << 20):
        got += len(chunk)
        if got % (16 << 20) < len(chunk):
            peak = max(peak, rss_mib(pid) - base)
    sock.close()
    took = time.monotonic() - t0
    print(f"D7 [{server}] GET /file-stream/m256.bin read at full speed: {got / (1 << 20):.0f} MiB on the wire "
          f"in {took:.1f} s ({got / (1 << 20) / took:.1f} MiB/s); the server's RSS grew up to {peak:.0f} MiB\n")


def seed_object_errors(port: int, server: str) -> None:
    """D8 (objects.not-found, objects.range-supported): a missing key and a Range on /object."""
    first, data = exchange(port, get("/object/no-such-key.bin", close=True), wait=4.0)
    print(f"D8 [{server}] GET /object/no-such-key.bin -> after {first:.2f} s: "
          f"{head_of(data).splitlines()[0] if data else 'nothing'}")
    _, data = exchange(port, get("/object/k64.bin", close=True, headers="Range: bytes=0-9\r\n"))
    print(f"D8 [{server}] GET /object/k64.bin with Range: bytes=0-9\n{head_of(data)}\n"
          f"  ({len(after_head(data))} bytes after the head)\n")


# -- daphne ---------------------------------------------------------------------------------------------
def daphne_no_backpressure(port: int, pid: int) -> None:
    """D9 (backpressure.*, abort.while-backpressured.*, files.stalled-memory.*): a client that reads nothing
    of a 256 MiB /stream; where is the producer 2 s later, and the server's RSS?"""
    rid = f"d9-{time.monotonic_ns()}"
    base = rss_mib(pid)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((HOST, port))
    sock.sendall(get(f"/stream?id={rid}&n=4096&size=65536"))
    time.sleep(4.0)
    events = probe(port, rid)["record"]["events"]
    chunks = sum(1 for e in events if e["kind"] == "chunk")
    print(f"D9 [daphne] GET /stream 4096 x 64 KiB, client reads nothing: 4 s later the producer made {chunks} "
          f"chunks ({chunks / 16:.0f} MiB), ended {[e['kind'] for e in events][-2:]}; RSS grew "
          f"{rss_mib(pid) - base:.0f} MiB\n")
    reset(sock)
    time.sleep(1.0)


def daphne_head_body(port: int) -> None:
    """D10 (chunking.head, files.head-headers.streamed, objects.head): HEAD of multi-message responses."""
    for target in ("/stream?n=3&size=100", "/file-stream/k64.bin", "/object/k64.bin", "/file/k64.bin",
                   "/file/m10.bin"):
        _, data = exchange(port, get(target, method="HEAD"), wait=1.5)
        body = after_head(data)
        print(f"D10 [daphne] HEAD {target}: {len(body)} bytes after the head: {body[:24]!r}")
    print()


def daphne_head_waits(port: int) -> None:
    """D11 (chunking.headers-first, sse.headers-first): the first chunk 1.5 s late."""
    first, data = exchange(port, get("/stream?n=1&size=4&delay=1500", close=True), wait=3.0)
    print(f"D11 [daphne] GET /stream?n=1&size=4&delay=1500: first response byte after {first:.3f} s: {data[:17]!r}\n")


def daphne_exception_after_head(port: int) -> None:
    """D12 (errors.truncated.*, objects.store-dies, objects.not-found): an exception after the head, then an
    exception before the head on a fresh connection."""
    first, data = exchange(port, get("/object/no-such-key.bin", close=True), wait=4.0)
    print(f"D12 [daphne] before: GET /object/no-such-key.bin -> after {first:.2f} s: {data[:36]!r}")
    t0 = time.monotonic()
    _, data = exchange(port, get("/stream?n=4&size=10&raise_after=2"), wait=4.0)
    print(f"D12 [daphne] GET /stream?n=4&size=10&raise_after=2 (Connection keep-alive): got {data[-40:]!r}, "
          f"and the connection was still open {time.monotonic() - t0:.1f} s later (this script's timeout)")
    time.sleep(1.5)  # daphne's application_checker (every 1 s) has met the exception by now
    for _ in range(2):
        first, data = exchange(port, get("/object/no-such-key.bin", close=True), wait=5.0)
        print(f"D12 [daphne] after: GET /object/no-such-key.bin -> {'nothing in 5 s' if not data else data[:36]}")
    print()


# -- driver ---------------------------------------------------------------------------------------------
def _dechunk(body: bytes) -> bytes:
    out, rest = b"", body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2:]
    return out


def main(servers: list[str]) -> int:
    from streamspec.launch import free_port

    from adapters.django_adapter import ADAPTER
    from conformance.store import MotoStore
    from streamspec.files import FILES_ROOT_ENV, build_tree

    with tempfile.TemporaryDirectory(prefix="django-repro-") as tmp:
        tree = build_tree(Path(tmp) / "tree")
        store = MotoStore(Path(tmp)).start().ready()
        try:
            env = {FILES_ROOT_ENV: str(tree.root), **store.env()}
            os.environ.update(env)
            seed_object_as_released(store.endpoint)
            for server in servers:
                port = free_port()
                argv = ADAPTER.command(LaunchOptions(HOST, port, server))
                proc = subprocess.Popen(argv, env={**os.environ, **env},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    _wait_health(port)
                    print(f"===== django under {server} ({' '.join(argv[1:4])}...) =====")
                    producer_runs_on(port, server)
                    no_validators_no_ranges(port, server)
                    symlink_served(port, server, tree.base)
                    seed_file_stream(port, server, proc.pid)
                    seed_object_errors(port, server)
                    if server == "daphne":
                        daphne_head_body(port)
                        daphne_head_waits(port)
                        daphne_no_backpressure(port, proc.pid)
                        daphne_exception_after_head(port)
                    file_read_whole(port, server, proc.pid)
                finally:
                    proc.terminate()
                    proc.wait(10)
        finally:
            store.stop()
    return 0


def _wait_health(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            _, data = exchange(port, get("/health", close=True), wait=1.0)
            if data.startswith(b"HTTP/1.1 200"):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server on port {port} did not answer /health within {timeout:.0f} s")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn", "daphne"]))
