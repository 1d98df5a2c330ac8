"""A raw-socket HTTP/1.1 server for the scenario contract, whose wire quirks are chosen by server name.

Why it exists: the suite must not raise false alarms against servers that are legal but unusual on the
wire, and some broken behaviours cannot be produced through ASGI, which hides the wire. This server
writes every byte itself (asyncio streams, h11 only to *parse* requests), so each quirk is a few lines.

Legal quirks (each must pass the whole suite):

* ``plain``: none, the baseline;
* ``chunk-extensions``: every chunk-size line carries ``;name=value`` (RFC 9112 §7.1.1);
* ``upper-hex``: chunk sizes in upper-case hex with leading zeros, ``0000001A`` (RFC 9112 §7.1);
* ``trailers``: the chunked body ends with a trailer section ``X-Stream-Checksum`` (RFC 9112 §7.1.2);
* ``interim-103``: ``103 Early Hints`` precedes every final response to /stream and /sse of an
  HTTP/1.1 request (RFC 9110 §15.2; never to HTTP/1.0, which has no 1xx);
* ``sse-bom``: the /sse body starts with a UTF-8 BOM (WHATWG HTML §9.2.5 allows one);
* ``sse-cr-only``: /sse uses CR-only line ends (WHATWG HTML §9.2.5);
* ``sse-split-writes``: each /sse item is written in 1-3 byte pieces, each its own chunk and drain.

Broken quirks (each must be caught by exactly its cases):

* ``second-status-after-error``: when the producer raises after the head, a fresh ``HTTP/1.1 500``
  response is written raw onto the connection after the partial body;
* ``head-with-body``: a HEAD response is followed by body bytes (RFC 9110 §9.3.2 forbids content);
* ``204-with-body``: a 204 response is followed by body bytes (RFC 9110 §15.3.5: it "cannot contain
  content"). ASGI servers refuse both, so only a raw socket can send them.

The semantics are the reference's (reference/app.py): head flushed before the first chunk, one chunk
per write, drained before the next is asked for, a task watching the socket for the client leaving,
truncation on a producer error. Run: ``python -m tests.rawserver --quirk NAME --host H --port P``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from typing import AsyncIterator
from urllib.parse import parse_qsl, urlsplit

import h11

from streamspec.adapter import Adapter, LaunchOptions, python_module_command
from streamspec.contract import PlanError, StreamPlan
from streamspec.probe import PROBE
from streamspec.producer import HttpError, open_stream
from streamspec.sse import HEADERS as SSE_HEADERS, SsePlan, encode, produce_events

LEGAL = ("plain", "chunk-extensions", "upper-hex", "trailers", "interim-103", "sse-bom", "sse-cr-only",
         "sse-split-writes")
BROKEN = ("second-status-after-error", "head-with-body", "204-with-body")
LEAKED = b"this body must not be here\n"  # what the two no-body quirks send where no body may be
HIGH_WATER = 64 * 1024  # small transport buffer: drain() blocks soon, so backpressure reaches the producer
BOM = b"\xef\xbb\xbf"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    http10: bool

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        return not self.http10 and "close" not in tokens


def head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Body:
    """A body without chunked coding (Content-Length or close-delimited): the bytes as they are."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    async def write(self, data: bytes) -> None:
        if data:  # an empty write sends nothing (and must not end a chunked body: see ChunkedBody)
            self.writer.write(self.frame(data))
            await self.writer.drain()

    def frame(self, data: bytes) -> bytes:
        return data

    async def end(self) -> None:
        pass


class ChunkedBody(Body):
    """Chunked coding (RFC 9112 §7.1), with the server's quirk in the chunk-size lines or trailer."""

    def __init__(self, writer: asyncio.StreamWriter, quirk: str) -> None:
        super().__init__(writer)
        self.quirk, self.checksum = quirk, 0

    def size_line(self, size: int) -> bytes:
        if self.quirk == "upper-hex":
            return f"{size:08X}\r\n".encode()
        if self.quirk == "chunk-extensions":
            return f"{size:x};name=value\r\n".encode()
        return f"{size:x}\r\n".encode()

    def frame(self, data: bytes) -> bytes:
        self.checksum = zlib.crc32(data, self.checksum)
        return self.size_line(len(data)) + data + b"\r\n"

    async def end(self) -> None:
        trailer = f"X-Stream-Checksum: crc32={self.checksum:08x}\r\n" if self.quirk == "trailers" else ""
        self.writer.write(self.size_line(0) + trailer.encode() + b"\r\n")
        await self.writer.drain()


class Connection:
    """One client connection: requests one after another (keep-alive) until either side ends it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, quirk: str) -> None:
        self.reader, self.writer, self.quirk = reader, writer, quirk
        self.pending = bytearray()  # bytes read past the current request (a pipelined next request)
        writer.transport.set_write_buffer_limits(high=HIGH_WATER)

    async def run(self) -> None:
        try:
            while (request := await self.read_request()) is not None:
                if not await self.dispatch(request):
                    break
        except (ConnectionError, h11.RemoteProtocolError):
            pass
        finally:
            self.writer.close()  # flushes what is buffered, then FIN (a truncated body ends here)

    async def read_request(self) -> Request | None:
        """Parse one request with a fresh h11 connection fed the leftover bytes; None when the client
        closed between requests. Requests in the suite carry no body; one that does is read and dropped."""
        parser = h11.Connection(h11.SERVER)
        if self.pending:  # (an empty receive_data() would mean EOF to h11)
            parser.receive_data(bytes(self.pending))
            self.pending.clear()
        request = None
        while True:
            try:
                event = parser.next_event()
            except h11.RemoteProtocolError:
                await self.send_whole(None, 400, b"bad request\n")
                raise
            if event is h11.NEED_DATA:
                parser.receive_data(await self.reader.read(65536))
            elif isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                return None
        self.pending += parser.trailing_data[0]
        url = urlsplit(request.target.decode("latin-1"))
        query: dict[str, str] = {}
        for key, value in parse_qsl(url.query, keep_blank_values=True):
            query.setdefault(key, value)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers}
        return Request(request.method.decode(), url.path, query, headers, request.http_version == b"1.0")

    # -- routes --------------------------------------------------------------------------------
    async def dispatch(self, req: Request) -> bool:
        """Answer one request; True when the connection can carry the next one."""
        routes = {"/stream": self.stream, "/sse": self.sse, "/probe": self.probe, "/health": self.health}
        route = routes.get(req.path)
        if route is None:
            return await self.send_whole(req, 404, b"not found\n")
        if self.quirk == "interim-103" and req.path in ("/stream", "/sse") and not req.http10:
            self.writer.write(head(103, [("Link", "</style.css>; rel=preload; as=style")]))
            await self.writer.drain()
        if req.method not in ("GET", "HEAD"):
            return await self.send_whole(req, 405, b"method not allowed\n", [("Allow", "GET, HEAD")])
        return await route(req)

    async def health(self, req: Request) -> bool:
        return await self.send_whole(req, 200, b"ok\n")

    async def probe(self, req: Request) -> bool:
        body = json.dumps(PROBE.snapshot(req.query.get("id"))).encode()
        return await self.send_whole(req, 200, body, [("Cache-Control", "no-store")], "application/json")

    async def stream(self, req: Request) -> bool:
        try:
            plan = StreamPlan.from_query(req.query)
        except PlanError as exc:
            return await self.send_whole(req, 400, f"{exc}\n".encode())
        try:
            producer = open_stream(plan)
        except HttpError as exc:  # raise_as=http before the head: that error's status, complete
            return await self.send_whole(req, exc.status, f"{exc}\n".encode())
        except Exception as exc:  # fail_start=1: nothing was sent yet, so a complete 500
            print(f"rawserver: {exc!r} before the head: 500", file=sys.stderr)
            return await self.send_whole(req, 500, b"internal server error\n")
        headers = [("Content-Type", "application/octet-stream"), ("Cache-Control", "no-store")]
        return await self.send_stream(req, headers, producer, plan.total if plan.content_length else None)

    async def sse(self, req: Request) -> bool:
        try:
            plan = SsePlan.from_request(req.query, req.headers.get("last-event-id"))
        except PlanError as exc:
            return await self.send_whole(req, 400, f"{exc}\n".encode())
        if plan.exhausted:  # nothing left: tells a browser to stop reconnecting
            return await self.send_whole(req, 204, b"")
        headers = [(k.title(), v) for k, v in SSE_HEADERS]
        return await self.send_stream(req, headers, self.sse_bytes(produce_events(plan)), None)

    async def sse_bytes(self, items: AsyncIterator) -> AsyncIterator[bytes]:
        """Each logical item framed by ``streamspec.sse.encode``, then the SSE quirk applied to the text."""
        first = True
        try:
            async for item in items:
                text = encode(item)
                if self.quirk == "sse-cr-only":
                    text = text.replace("\n", "\r")
                data = (BOM if first and self.quirk == "sse-bom" else b"") + text.encode("utf-8")
                first = False
                if self.quirk != "sse-split-writes":
                    yield data
                    continue
                pos, count = 0, 0
                while pos < len(data):  # pieces of 1, 2, 3, 1, 2, 3... bytes, even inside a character
                    size = 1 + count % 3
                    yield data[pos:pos + size]
                    pos, count = pos + size, count + 1
        finally:
            await items.aclose()

    # -- responses -----------------------------------------------------------------------------
    async def send_whole(self, req: Request | None, status: int, body: bytes, headers=(),
                         content_type: str = "text/plain") -> bool:
        """A complete response framed by Content-Length (a 204 has neither body nor length)."""
        keep = req is not None and req.keep_alive
        framing = [] if status == 204 else [("Content-Type", content_type), ("Content-Length", str(len(body)))]
        self.writer.write(head(status, [*framing, *headers, *([] if keep else [("Connection", "close")])]))
        if req is not None and req.method != "HEAD" and status != 204:
            self.writer.write(body)
        elif status == 204 and self.quirk == "204-with-body":
            self.writer.write(LEAKED)  # the bug under test: content after a 204
        await self.writer.drain()
        return keep

    async def send_stream(self, req: Request, headers, chunks: AsyncIterator[bytes], length: int | None) -> bool:
        """Head first (flushed before the producer runs), then the chunks; True if the connection lives on."""
        chunked = length is None and not req.http10  # HTTP/1.0 has no chunked coding: close-delimited
        keep = req.keep_alive and (chunked or length is not None)
        if length is not None:
            headers = [*headers, ("Content-Length", str(length))]
        elif chunked:
            headers = [*headers, ("Transfer-Encoding", "chunked")]
            if self.quirk == "trailers":
                headers.append(("Trailer", "X-Stream-Checksum"))
        if not keep:
            headers = [*headers, ("Connection", "close")]
        self.writer.write(head(200, headers))
        await self.writer.drain()
        if req.method == "HEAD":
            await chunks.aclose()  # never started: its diary stays empty
            if self.quirk == "head-with-body":
                self.writer.write(LEAKED)  # the bug under test: content after a HEAD response's head
            return keep
        body = ChunkedBody(self.writer, self.quirk) if chunked else Body(self.writer)
        outcome = await self.deliver(chunks, body)
        if outcome == "error" and self.quirk == "second-status-after-error":
            # The bug under test: a second response written after a partial one, as if nothing had
            # been sent yet. A client reads it as body bytes (length) or as a broken chunk header.
            self.writer.write(head(500, [("Content-Type", "text/plain"), ("Content-Length", "22"),
                                         ("Connection", "close")]) + b"Internal Server Error\n")
        return keep and outcome == "done"

    async def deliver(self, chunks: AsyncIterator[bytes], body: Body) -> str:
        """Pump the chunks while a second task watches for the client leaving, whichever ends first.

        Returns ``done`` (the body ended properly), ``gone`` (the client left: the producer was cancelled
        or closed, so its ``finally`` ran) or ``error`` (the producer raised: the caller closes the
        connection without ending the body, so the client sees the truncation)."""
        pumping = asyncio.ensure_future(self.pump(chunks, body))
        watching = asyncio.ensure_future(self.watch())
        try:
            await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            left = watching.done()  # EOF or reset seen: no further request can come on this connection
            watching.cancel()
            pumping.cancel()  # a no-op once done; else the client left: the producer stops now
            await asyncio.gather(watching, pumping, return_exceptions=True)
        error = None if pumping.cancelled() else pumping.exception()
        if pumping.cancelled() or isinstance(error, ConnectionError):
            return "gone"
        if error is not None:
            print(f"rawserver: producer raised after the head: {error!r}", file=sys.stderr)
            return "error"
        return "gone" if left else "done"

    async def pump(self, chunks: AsyncIterator[bytes], body: Body) -> None:
        """One chunk per produced chunk, drained before the next is asked for: backpressure."""
        try:
            async for data in chunks:
                await body.write(data)
            await body.end()
        finally:
            await chunks.aclose()  # a no-op when the generator already finished

    async def watch(self) -> None:
        """Return when the client is gone (EOF or reset); bytes that arrive meanwhile are kept."""
        try:
            while data := await self.reader.read(65536):
                self.pending += data
        except ConnectionError:
            pass


def _command(options: LaunchOptions) -> list[str]:
    """``python -m tests.rawserver --host H --port P --quirk SERVER``: the server name is the quirk."""
    return python_module_command("tests.rawserver", "--quirk", options.server)(options)


ADAPTER = Adapter(
    name="rawsocket",
    description="asyncio raw-socket HTTP/1.1 test server; the server name picks a wire quirk",
    command=_command,
    servers=LEGAL + BROKEN,
    packages=("h11",),
    modules=("h11",),
    idiom="asyncio streams: the head, chunk framing and trailers written by hand; h11 parses requests",
    lacks={"files": "a wire-quirk server for the streaming families: it serves no downloads",
           "objects": "a wire-quirk server for the streaming families: it serves no downloads"},
)


async def serve(host: str, port: int, quirk: str) -> None:
    """Serve until SIGTERM/SIGINT, then cancel the open connections (their producers clean up)."""
    open_tasks: set[asyncio.Task] = set()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        open_tasks.add(task)
        try:
            await Connection(reader, writer, quirk).run()
        except asyncio.CancelledError:
            pass  # shutting down: the connection's finally blocks have run
        finally:
            open_tasks.discard(task)

    server = await asyncio.start_server(connected, host, port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    for task in list(open_tasks):
        task.cancel()
    await asyncio.gather(*open_tasks, return_exceptions=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.rawserver", description=__doc__.splitlines()[0])
    parser.add_argument("--quirk", choices=LEGAL + BROKEN, default="plain")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port, args.quirk))
    return 0


if __name__ == "__main__":
    sys.exit(main())
