"""A deliberately lenient raw-socket HTTP/1.1 server: it accepts every malformed message of the hostile
family (``conformance/hostile.py``) the way a careless hand-written parser would, so every
``hostile.*`` case must fail against it (``tests/test_hostile_lenient.py``).

It serves ``GET /health``, ``GET /probe`` (``streamspec.probe.PROBE``, for readiness and the cases'
checks) and ``POST|PUT /upload`` (``streamspec.uploads``), and is lenient in every way at once:

* lines split on CRLF only: a bare LF or bare CR stays inside the request-target or the field value;
* a field line without a colon is skipped; a line starting with whitespace is a field line of its own
  (no obs-fold); whitespace around the name is stripped (``Transfer-Encoding : chunked`` counts);
* field values are stripped with Python's ``str.strip`` (a vertical tab goes too); the first line of a
  repeated field wins;
* Transfer-Encoding is chunked when the *first* comma-separated token is ``chunked`` (``chunked, chunked``,
  ``chunked, identity`` are chunked; ``,chunked`` and ``identity, chunked`` are not); it wins over a
  Content-Length, and the connection is kept alive afterwards (RFC 9112 §6.1 says close);
* Content-Length and chunk sizes are read like C's ``strtoull``/Python's ``int(x, 16)``: a sign, a ``0x``,
  underscores, surrounding whitespace are accepted, parsing stops at the first other character (``5g``,
  ``5\\x000``, ``5, 6``), a negative value is 0, and the value wraps at 64 bits;
* the CRLF after chunk data is skipped unchecked; no limit on a head, a chunk-size line or an extension;
* the request heads of all connections are parsed under one lock (a single parser thread, in effect): a
  head trickled byte by byte holds every other client's head (slowloris).

Run: ``python -m tests.lenient_server --host H --port P``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from streamspec.adapter import Adapter, python_module_command
from streamspec.contract import PlanError
from streamspec.probe import PROBE
from streamspec.uploads import UploadLog, UploadPlan

#: heads, chunk-size lines and extensions of any size (up to this, so memory stays bounded)
LIMIT = 16 * 1024 * 1024
MASK64 = (1 << 64) - 1
HEAD_LOCK: asyncio.Lock | None = None


def strtoull(text: bytes, base: int) -> int:
    """Lenient number: Python's int() first (sign, 0x, underscores, whitespace), else the leading digits
    (stopping at the first other byte, as C does); negative is 0; wrapped at 64 bits."""
    value = text.decode("latin-1")
    try:
        number = int(value.strip(), base)
    except ValueError:
        digits = "0123456789abcdef"[:base]
        stripped, end = value.strip().lower(), 0
        while end < len(stripped) and stripped[end] in digits:
            end += 1
        number = int(stripped[:end], base) if end else 0
    return max(0, number) & MASK64


def parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    lines = head.split(b"\r\n")
    method, target, version = (lines[0].decode("latin-1").split(" ", 2) + ["", ""])[:3]
    headers: dict[str, str] = {}
    for raw in lines[1:]:
        line = raw.decode("latin-1").lstrip()
        if ":" not in line:
            continue
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    return method, target, version, headers


def response(status: int, body: bytes, content_type: str = "text/plain") -> bytes:
    head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def run(self) -> None:
        try:
            while await self.one():
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self.writer.close()

    async def read_head(self) -> bytes | None:
        try:
            first = await self.reader.readexactly(1)
        except asyncio.IncompleteReadError:
            return None
        async with HEAD_LOCK:  # one head at a time: the slowloris flaw
            return first + await self.reader.readuntil(b"\r\n\r\n")

    async def one(self) -> bool:
        head = await self.read_head()
        if head is None:
            return False
        _method, target, version, headers = parse_head(head)
        if not version.startswith("HTTP/1."):
            self.writer.write(response(400, b"bad request\n"))
            await self.writer.drain()
            return False
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        te = headers.get("transfer-encoding", "").split(",")[0].strip().lower()
        chunked = te == "chunked"
        length = 0 if chunked else strtoull(headers.get("content-length", "0").encode("latin-1"), 10)
        if url.path == "/upload":
            try:
                plan = UploadPlan.from_query(query)
            except PlanError as exc:
                await self.skip_body(chunked, length)
                self.writer.write(response(400, f"{exc}\n".encode()))
            else:
                with UploadLog(plan) as log:
                    await self.body(chunked, length, log.piece)
                    answer = log.finish()
                self.writer.write(response(200, json.dumps(answer).encode(), "application/json"))
        else:
            await self.skip_body(chunked, length)
            if url.path == "/health":
                self.writer.write(response(200, b"ok\n"))
            elif url.path == "/probe":
                body = json.dumps(PROBE.snapshot(query.get("id"))).encode()
                self.writer.write(response(200, body, "application/json"))
            else:
                self.writer.write(response(404, b"not found\n"))
        await self.writer.drain()
        return "close" not in headers.get("connection", "").lower()

    async def skip_body(self, chunked: bool, length: int) -> None:
        await self.body(chunked, length, lambda data: None)

    async def body(self, chunked: bool, length: int, piece) -> None:
        if not chunked:
            while length > 0:
                data = await self.reader.read(min(length, 65536))
                if not data:
                    raise ConnectionError("the client left mid-body")
                piece(data)
                length -= len(data)
            return
        while True:
            line = await self.reader.readuntil(b"\n")
            size = strtoull(line.split(b";")[0], 16)
            if size == 0:
                while (await self.reader.readuntil(b"\n")).strip():  # trailer lines
                    pass
                return
            while size > 0:
                data = await self.reader.read(min(size, 65536))
                if not data:
                    raise ConnectionError("the client left mid-chunk")
                piece(data)
                size -= len(data)
            await self.reader.readexactly(2)  # the CRLF after the data, not checked


ADAPTER = Adapter(
    name="lenient",
    description="a deliberately lenient raw-socket HTTP/1.1 server: accepts every hostile message",
    command=python_module_command("tests.lenient_server"),
    servers=("lenient",),
    idiom="asyncio streams, a hand-written lenient request parser",
    lacks={"sse": "a hostile-framing test server: it serves only /upload, /health and /probe",
           "files": "a hostile-framing test server: it serves only /upload, /health and /probe",
           "objects": "a hostile-framing test server: it serves only /upload, /health and /probe",
           "echo": "a hostile-framing test server: it serves only /upload, /health and /probe",
           "http-errors": "a hostile-framing test server: it serves only /upload, /health and /probe"},
)


async def serve(host: str, port: int) -> None:
    global HEAD_LOCK
    HEAD_LOCK = asyncio.Lock()
    tasks: set[asyncio.Task] = set()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        tasks.add(task)
        try:
            await Connection(reader, writer).run()
        except asyncio.CancelledError:
            pass
        finally:
            tasks.discard(task)

    server = await asyncio.start_server(connected, host, port, limit=LIMIT, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.lenient_server", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
