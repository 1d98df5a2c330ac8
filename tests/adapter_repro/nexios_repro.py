"""Raw-socket reproductions of the Nexios findings (reports/findings/nexios.md), a few lines each.

Run: ``python tests/adapter_repro/nexios_repro.py [uvicorn|hypercorn|granian ...]`` from the repository
root (default: all three). It builds a fixture tree and starts a moto store in a temporary directory (the
files and objects findings need them), starts the adapter (``python -m adapters.nexios_app --server S``)
as a real process, sends hand-written requests over plain sockets and prints the response heads it got. Not
collected by pytest (the name does not start with ``test_``): it is evidence, kept so anyone can re-run it
against a newer Nexios or server. The probe's times are ``time.monotonic()`` in the server process, the same
clock as this script's on one host, so "after the reset" is measured directly.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from streamspec.launch import ServerProcess, free_port  # noqa: E402

HOST = "127.0.0.1"


def exchange(port: int, request: bytes, wait: float = 2.0) -> tuple[float, bytes]:
    """Send ``request``; return (seconds until the first response byte, everything until close/idle)."""
    with socket.create_connection((HOST, port)) as sock:
        t0 = time.monotonic()
        sock.sendall(request)
        sock.settimeout(wait)
        data, first = b"", None
        try:
            while chunk := sock.recv(65536):
                first = first if first is not None else time.monotonic() - t0
                data += chunk
        except socket.timeout:
            pass
    return (first if first is not None else float("nan")), data


def head_of(data: bytes) -> str:
    return data.split(b"\r\n\r\n", 1)[0].decode("latin-1")


def content_length_dropped(port: int) -> None:
    """N1: Content-Length passed to response.stream(headers=...) is removed; the body goes out chunked."""
    _, data = exchange(port, b"GET /stream?n=2&size=4&cl=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print("N1 GET /stream?n=2&size=4&cl=1 (handler passed Content-Length: 8)\n" + head_of(data) + "\n")


def duplicated_headers(port: int) -> None:
    """N2: every header of a StreamingResponse goes out twice (content-type is a singleton field)."""
    _, data = exchange(port, b"GET /sse?n=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print("N2 GET /sse?n=1\n" + head_of(data) + "\n")


def http10_chunked(port: int) -> None:
    """N3: an HTTP/1.0 request for a stream of unknown length is answered with chunked coding."""
    _, data = exchange(port, b"GET /stream?n=2&size=4 HTTP/1.0\r\nHost: x\r\n\r\n")
    print("N3 GET /stream?n=2&size=4 HTTP/1.0\n" + repr(data) + "\n")


def head_waits_for_first_chunk(port: int) -> None:
    """N4: with the first chunk 1 s late, when does the response head arrive?"""
    first, data = exchange(port, b"GET /stream?n=1&size=4&delay=1000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    print(f"N4 GET /stream?n=1&size=4&delay=1000: first response byte after {first:.3f}s: {data[:40]!r}\n")


def probe(port: int, request_id: str | None = None) -> dict:
    """``GET /probe[?id=]`` on its own connection: the producers' diary (``active``, ``record``)."""
    target = f"/probe?id={request_id}" if request_id else "/probe"
    _, data = exchange(port, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


def reset(sock: socket.socket) -> float:
    """Close with SO_LINGER 0 (RST); the time of the reset."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    t = time.monotonic()
    sock.close()
    return t


def producer_leaked_after_reset(port: int) -> None:
    """N5 (abort.while-backpressured.*): a client that stopped reading (the server blocked on backpressure)
    resets; nothing else happens on the server for 3 s; the probe then still counts the producer as
    running, with no cleanup. Both framings (``cl=1`` is chunked on the wire too: N1). Under granian the
    producer first runs on for a few dozen chunks after the reset (granian swallows sends to a closed
    connection) before Nexios's disconnect listener cancels it, inside a send again."""
    for framing, extra in (("chunked", ""), ("length", "&cl=1")):
        rid = f"n5-{framing}-{time.monotonic_ns()}"
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((HOST, port))
        sock.sendall(f"GET /stream?id={rid}&n=4096&size=65536{extra} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(1.5)  # the server fills the socket buffers and blocks in send()
        t_reset = reset(sock)
        time.sleep(3.0)
        answer = probe(port, rid)
        events = answer["record"]["events"]
        kinds = [e["kind"] for e in events]
        chunks = [e for e in events if e["kind"] == "chunk"]
        after = [e for e in chunks if e["t"] > t_reset]
        print(f"N5 {framing}: 3 s after the reset: active producers {answer['active']}, "
              f"{len(chunks) - len(after)} chunks made before the reset, {len(after)} after, "
              f"last events {kinds[-2:]}, cleanup ran: {'cleanup' in kinds}")
    print()


def aborted_producers_left_running(port: int, streams: int = 100) -> None:
    """N6 (abort.healthy-after-100.*): ``streams`` streams with a chunk every 20 ms, each left after its
    first chunk (odd ones FIN, even ones RST), as the case does; nothing else for 5 s; then how each
    producer ended, and when (the probe's ``active`` count is not used: N5's leftovers would blur it).
    ``cancelled``: Nexios's cancellation landed in the producer's own ``await asyncio.sleep`` (cleanup at
    once). ``closed``: it landed inside Nexios's ``send``, so nothing called ``aclose()`` and the generator
    was closed only when the garbage collector finalised it (N5's path, hit by chance): the delay is
    whenever the collector next ran. Run it twice and the count not closed after 5 s changes: a race."""
    base = f"n6-{time.monotonic_ns()}"
    socks = []
    for i in range(streams):
        sock = socket.create_connection((HOST, port))
        sock.sendall(f"GET /stream?id={base}-{i}&n=1000&size=512&delay=20 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        socks.append(sock)
    left_at = []
    for i, sock in enumerate(socks):
        got = b""
        while b"\r\n\r\n" not in got or len(got.split(b"\r\n\r\n", 1)[1]) < 512 + 5:  # "200\r\n" + chunk 0
            got += sock.recv(65536)
        if i % 2:
            left_at.append(time.monotonic())
            sock.close()  # FIN
        else:
            left_at.append(reset(sock))
    time.sleep(5.0)
    ends: dict[str, list[float]] = {"cancelled": [], "closed": []}
    running = 0
    for i, t_left in enumerate(left_at):
        events = probe(port, f"{base}-{i}")["record"]["events"]
        end = next((e for e in events if e["kind"] in ("cancelled", "closed", "done", "error")), None)
        if end is None:
            running += 1
        else:
            ends.setdefault(end["kind"], []).append(round(end["t"] - t_left, 3))
    closed = sorted(ends["closed"])
    late = [t for t in closed if t > 5.0]
    early = [t for t in closed if t <= 5.0]
    print(f"N6 {streams} streams left after their first chunk; {len(late) + running} producers not closed 5 s "
          f"later. Per stream: 'cancelled' (cleanup at once) {len(ends['cancelled'])}, at most "
          f"{max(ends['cancelled'], default=0) * 1000:.0f} ms after the client left; 'closed' by the garbage "
          f"collector {len(closed)}: {len(early)} within {max(early, default=0):.3f} s, {len(late)} only after "
          f"{min(late, default=0):.3f}-{max(late, default=0):.3f} s (when this script's probe requests made the "
          f"collector run); not closed even then: {running}\n")


# -- files and objects (N7-N12; N1, N2, N5 seen again) ---------------------------------------------------

def get(target: str, *headers: str) -> bytes:
    extra = "".join(f"{h}\r\n" for h in headers)
    return f"GET {target} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n".encode()


def show(label: str, data: bytes, body_bytes: int = 0) -> None:
    """The head without date/server lines, and how many body bytes came before the close."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = [ln for ln in head.decode("latin-1").split("\r\n") if not ln.startswith(("date:", "server:"))]
    print(f"{label}\n   " + "\n   ".join(lines) + f"\n   -> {len(body)} body bytes before the close"
          + (f": {body[:body_bytes]!r}" if body_bytes else ""))


def range_parsing(port: int) -> None:
    """N7: FileResponse's Range parser: ``0-0`` becomes the whole file, a suffix range and a last position
    past the end are 416, and so is a unit it does not know (which it MUST ignore)."""
    for value in ("bytes=0-0", "bytes=-100", "bytes=10-99999999999", "chars=0-1"):
        _, data = exchange(port, get("/file/k64.bin", f"Range: {value}"))
        show(f"N7 GET /file/k64.bin, Range: {value}", data)
    print()


def range_framing(port: int) -> None:
    """N8: a 416 keeps the file's Content-Length and sends no body; a multipart 206 keeps it too, names two
    Content-Types, writes the part's type as a Python bytes repr, and is cut off by the server."""
    _, data = exchange(port, get("/file/k64.bin", "Range: bytes=70000-80000"))
    show("N8 GET /file/k64.bin, Range: bytes=70000-80000", data)
    _, data = exchange(port, get("/file/k64.bin", "Range: bytes=1-1,10-19"))
    show("N8 GET /file/k64.bin, Range: bytes=1-1,10-19", data, body_bytes=200)
    print()


def no_conditionals(port: int) -> None:
    """N9: the ETag and Last-Modified FileResponse sends are never compared: If-None-Match with the current
    ETag is a full 200, If-Range with a stale validator still gets the range (206)."""
    _, data = exchange(port, get("/file/k64.bin"))
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    etag = next(ln.split(":", 1)[1].strip() for ln in head.split("\r\n") if ln.startswith("etag:"))
    for headers in ((f"If-None-Match: {etag}",), ("Range: bytes=0-99", 'If-Range: "stale-validator"')):
        _, data = exchange(port, get("/file/k64.bin", *headers))
        head, _, body = data.partition(b"\r\n\r\n")
        status = head.split(b"\r\n", 1)[0]
        print(f"N9 GET /file/k64.bin, {', '.join(headers)}: {status!r}, {len(body)} body bytes")
    print()


def disposition(port: int) -> None:
    """N10: Content-Disposition is ``filename="<name>"`` (native) or ``filename=<name>`` (the guide's
    streamed download) with the name as it is: a name outside Latin-1 is a 500, a quote breaks the field."""
    for name in ("résumé naïve 名前.bin", 'semi; "quoted" name.bin'):
        for prefix in ("/file/", "/file-stream/"):
            _, data = exchange(port, get(prefix + quote(name, safe="")))
            head, _, body = data.partition(b"\r\n\r\n")
            cd = [ln for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-disposition")]
            last = body.rstrip().rsplit(b"\n", 1)[-1] if head.startswith(b"HTTP/1.1 500") else b""
            status = head.split(b"\r\n", 1)[0]
            print(f"N10 GET {prefix}{name}: {status!r} {cd[:1]!r} {last[:110]!r}")
    print()


def symlink_escape(port: int, secret: Path) -> None:
    """N11: the docs' ``UPLOAD_DIR / filename`` + ``exists()``/``is_file()`` follows a symlink out of the root."""
    outside = secret.read_bytes()
    for target in ("/file/escape.bin", "/file-stream/escape.bin"):
        _, data = exchange(port, get(target))
        head, _, body = data.partition(b"\r\n\r\n")
        leaked = outside[:64] in body
        status = head.split(b"\r\n", 1)[0]
        print(f"N11 GET {target}: {status!r}, {len(body)} bytes; the outside file's bytes: {leaked}")
    print()


def resources(port: int) -> dict:
    return probe(port, "resources:")["resources"]


def rss_mib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        return next(int(ln.split()[1]) // 1024 for ln in fh if ln.startswith("VmRSS:"))


def file_read_after_abort(port: int, downloads: int = 4) -> None:
    """N12: ``downloads`` clients start /file/m256.bin (4 KiB receive buffer), take the head and reset. The
    native FileResponse never listens for the disconnect: it reads the rest of each 256 MiB file and sends
    it to nobody, file open all the while (and under hypercorn every chunk stays in memory)."""
    def held() -> int:
        return sum(1 for f in resources(port)["open"] if f.endswith("m256.bin"))
    pid = probe(port, "resources:")["pid"]  # the serving process (granian's worker, not its parent)
    base = rss_mib(pid)
    socks = []
    for _ in range(downloads):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((HOST, port))
        sock.sendall(get("/file/m256.bin").replace(b"Connection: close", b"Connection: keep-alive"))
        sock.recv(4096)
        socks.append(sock)
    t0 = time.monotonic()
    for sock in socks:
        reset(sock)
    trace = []
    while True:
        n, t = held(), time.monotonic() - t0
        trace.append(f"{t:.1f}s: {n} open, RSS +{rss_mib(pid) - base} MiB")
        if n == 0 or t > 60:
            break
        time.sleep(0.5 if t < 3 else 2.0)
    print(f"N12 {downloads} native downloads of m256.bin reset after their head: " + "; ".join(trace) + "\n")


def streamed_and_object_aborts(port: int) -> None:
    """N5 on the new routes: the streamed download's aiofiles generator and the /object generator are left
    suspended in ``send`` when the client leaves a stalled download, so the file and the store connection
    are released only when the garbage collector finalises the generator (the probe's own requests make it
    run now and then: the times vary)."""
    def open_streams() -> int:
        return sum(1 for f in resources(port)["open"] if f.endswith("m256.bin"))
    socks = []
    for _ in range(100):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((HOST, port))
        sock.sendall(get("/file-stream/m256.bin").replace(b"Connection: close", b"Connection: keep-alive"))
        sock.recv(4096)
        socks.append(sock)
    time.sleep(0.5)
    for sock in socks:
        reset(sock)
    time.sleep(3.0)
    print(f"N5 100 streamed downloads of m256.bin reset mid-body: {open_streams()} still hold the file 3 s later")
    took = []
    for _ in range(6):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((HOST, port))
        sock.sendall(get("/object/m32.bin").replace(b"Connection: close", b"Connection: keep-alive"))
        got = 0
        while got < 65536:
            got += len(sock.recv(65536))
        time.sleep(0.3)
        t0 = reset(sock)
        while resources(port)["store"] and time.monotonic() - t0 < 10:
            time.sleep(0.02)
        took.append(f"{time.monotonic() - t0:.2f}")
    print(f"N5 /object/m32.bin stalled and reset, six times: the store connection went after {', '.join(took)} s\n")


def main(servers: list[str]) -> int:
    from conformance.store import MotoStore
    from streamspec.files import FILES_ROOT_ENV, FileTree, build_tree

    with tempfile.TemporaryDirectory(prefix="nexios-repro-") as tmp:
        tree: FileTree = build_tree(Path(tmp) / "tree")
        store = MotoStore(Path(tmp)).start().ready()
        try:
            env = {FILES_ROOT_ENV: str(tree.root), **store.env()}
            os.environ.update(env)  # the probe's resource view reads the root from the environment too
            for server in servers:
                port = free_port()
                argv = [sys.executable, "-m", "adapters.nexios_app", "--server", server, "--host", HOST,
                        "--port", str(port)]
                with ServerProcess(argv, HOST, port, name=f"nexios/{server}", env=env):
                    print(f"===== nexios under {server} =====")
                    for repro in (content_length_dropped, duplicated_headers, http10_chunked,
                                  head_waits_for_first_chunk, producer_leaked_after_reset,
                                  aborted_producers_left_running, range_parsing, range_framing, no_conditionals,
                                  disposition):
                        repro(port)
                    symlink_escape(port, tree.secret)
                    file_read_after_abort(port)
                    streamed_and_object_aborts(port)
        finally:
            store.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn", "hypercorn", "granian"]))
