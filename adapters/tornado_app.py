"""The scenario contract served by Tornado on its own HTTP server, written the way Tornado's docs teach it.

``tornado.web.Application`` with its defaults, one ``RequestHandler`` per route, served by
``app.listen(port, address=host)`` on the asyncio loop until SIGTERM (one process):

* ``/stream``: ``self.write(chunk); await self.flush()`` per chunk inside an ``async def get`` ("Web
  framework: ``flush()``: Flushes the current output buffer to the network ... Returns a Future"), the
  declared length as a ``Content-Length`` header. A client that leaves is noticed as the docs teach:
  ``on_connection_close`` ("Called in async handlers if the client closed the connection. Override this to
  clean up resources associated with long-lived connections") cancels the future the handler waits on, as
  Tornado's chat demo cancels its ``wait_future``; a ``flush()`` on a closed connection raises
  ``StreamClosedError`` and ends the handler. The handler iterates the producer itself, so it is closed with
  ``aclosing`` when the handler ends. ``raise_as=http`` raises ``tornado.web.HTTPError(503)``.
* ``/sse``: the same with the SSE headers; items framed by ``streamspec.sse.encode`` (Tornado has no SSE API).
* ``/file/(.*)``: ``StaticFileHandler`` (Tornado's file serving: ranges, ``ETag``, ``If-None-Match``,
  ``If-Modified-Since``, HEAD, and a containment check in ``validate_absolute_path``) rooted at the fixture
  directory, its documented ``set_extra_headers`` hook adding the attachment ``Content-Disposition``.
* ``/file-stream/([^/]+)``: the hand-written download (one path segment, as the guide's URL patterns capture
  one; Tornado decodes the captured group): the file read ``CHUNK_SIZE`` bytes at a time, each piece
  ``write()`` + ``await flush()``.
* ``/object/([^/]+)``: one aiobotocore client created before the server listens and closed at shutdown, the
  body read under ``async with`` and written + flushed per chunk.
* ``/upload``: ``@stream_request_body`` ("``data_received`` ... may be a coroutine for flow control"):
  ``prepare()`` opens the upload (or answers the rejection without reading the body), ``data_received``
  logs each piece, ``post``/``put`` answer; ``on_connection_close`` records an upload cut short. Tornado's
  default ``max_body_size`` (100 MB) is kept. ``/echo``: the same, writing + flushing each transformed piece
  from ``data_received`` as it arrives.

``python -m streamspec.adapters.tornado_app --host H --port P [--server tornado]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from email.utils import formatdate
from pathlib import Path

import tornado.web
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from tornado.iostream import StreamClosedError

from streamspec.contract import PlanError, StreamPlan
from streamspec.files import CHUNK_SIZE, bucket, served_root, store_config
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SsePlan, encode, produce_events
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

FILES_ROOT = served_root() or Path("files")


def first_values(handler: tornado.web.RequestHandler) -> dict[str, str]:
    """First value of each query parameter, as the reference reads them."""
    return {key: values[0].decode("utf-8", "replace") for key, values in handler.request.query_arguments.items()
            if values}


def http_error(status: int, message: str) -> tornado.web.HTTPError:
    return tornado.web.HTTPError(status, reason=None, log_message=message)


class Streaming(tornado.web.RequestHandler):
    """Writes an async iterator chunk by chunk; a closed connection cancels what the handler waits on."""

    waiting: asyncio.Future | None = None

    async def write_all(self, items) -> None:
        async with contextlib.aclosing(items):
            while True:
                self.waiting = asyncio.ensure_future(anext(items))
                try:
                    chunk = await self.waiting
                except (StopAsyncIteration, asyncio.CancelledError):
                    return
                self.write(chunk)
                await self.flush()

    def on_connection_close(self) -> None:
        if self.waiting is not None:
            self.waiting.cancel()


class StreamHandler(Streaming):
    async def get(self):
        try:
            plan = StreamPlan.from_query(first_values(self))
        except PlanError as exc:
            raise tornado.web.HTTPError(400, reason=str(exc)[:100]) from None
        producer = open_stream(plan, http_error=http_error)
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Cache-Control", "no-store")
        if plan.content_length:
            self.set_header("Content-Length", str(plan.total))
        await self.write_all(producer)


class SseHandler(Streaming):
    async def get(self):
        try:
            plan = SsePlan.from_request(first_values(self), self.request.headers.get("Last-Event-ID"))
        except PlanError as exc:
            raise tornado.web.HTTPError(400, reason=str(exc)[:100]) from None
        if plan.exhausted:
            self.set_status(204)  # nothing left: a browser stops reconnecting
            return
        for name, value in SSE_HEADERS:
            self.set_header(name, value)

        async def blocks():
            async for item in produce_events(plan):
                yield encode(item).encode("utf-8")

        await self.write_all(blocks())


class AttachmentFileHandler(tornado.web.StaticFileHandler):
    """``StaticFileHandler`` with the attachment header, through its documented ``set_extra_headers`` hook."""

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Content-Disposition", f'attachment; filename="{path}"')


class FileStreamHandler(Streaming):
    async def get(self, name: str):
        path = FILES_ROOT / name
        if not path.is_file():
            raise tornado.web.HTTPError(404)
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.set_header("Content-Length", str(path.stat().st_size))
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK_SIZE):
                self.write(chunk)
                await self.flush()


class Store:
    client = None
    stack = contextlib.AsyncExitStack()


class ObjectHandler(Streaming):
    async def get(self, key: str):
        params = {"Bucket": bucket(), "Key": key}
        if "Range" in self.request.headers:
            params["Range"] = self.request.headers["Range"]
        try:
            obj = await Store.client.get_object(**params)
        except ClientError as exc:
            error = exc.response["Error"]
            if error.get("Code") == "InvalidRange":
                self.set_status(416)
                self.set_header("Content-Range", f"bytes */{error['ActualObjectSize']}")
                return
            if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise tornado.web.HTTPError(404) from None
            raise
        self.set_status(obj["ResponseMetadata"]["HTTPStatusCode"])
        self.set_header("Content-Type", obj["ContentType"])
        self.set_header("Content-Length", str(obj["ContentLength"]))
        self.set_header("ETag", obj["ETag"])
        self.set_header("Last-Modified", formatdate(obj["LastModified"].timestamp(), usegmt=True))
        if "ContentRange" in obj:
            self.set_header("Content-Range", obj["ContentRange"])

        async def chunks():
            async with obj["Body"] as body:
                async for chunk in body.iter_chunks(CHUNK_SIZE):
                    yield chunk

        await self.write_all(chunks())


@tornado.web.stream_request_body
class UploadHandler(tornado.web.RequestHandler):
    log: UploadLog | None = None
    plan: UploadPlan | None = None

    def prepare(self):
        try:
            self.plan = UploadPlan.from_query(first_values(self))
        except PlanError as exc:
            raise tornado.web.HTTPError(400, reason=str(exc)[:100]) from None
        self.log = UploadLog(self.plan).__enter__()
        if self.plan.reject:
            self.set_status(self.plan.reject)
            self.finish("rejected\n")  # the body is never read
            self.log.__exit__(None, None, None)

    async def data_received(self, chunk: bytes):
        self.log.piece(chunk)
        if self.plan.consume_delay_ms:
            await asyncio.sleep(self.plan.consume_delay_ms / 1000)

    def post(self):
        self.write(self.log.finish())
        self.log.__exit__(None, None, None)

    put = post

    def on_connection_close(self):
        if self.log is not None and not self.log.finished and not self.plan.reject:
            self.log.__exit__(StreamClosedError, StreamClosedError("the client closed the connection"), None)


@tornado.web.stream_request_body
class EchoHandler(UploadHandler):
    def prepare(self):
        super().prepare()
        if not self._finished:
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Cache-Control", "no-store")

    async def data_received(self, chunk: bytes):
        self.log.piece(chunk)
        if chunk:
            self.write(echo_transform(chunk))
            await self.flush()
        if self.plan.consume_delay_ms:
            await asyncio.sleep(self.plan.consume_delay_ms / 1000)

    def post(self):
        self.log.finish()
        self.log.__exit__(None, None, None)


class ProbeHandler(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Cache-Control", "no-store")
        self.write(PROBE.snapshot(self.get_query_argument("id", None)))


class HealthHandler(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write("ok\n")


def make_app() -> tornado.web.Application:
    return tornado.web.Application([
        (r"/stream", StreamHandler),
        (r"/sse", SseHandler),
        (r"/file/(.*)", AttachmentFileHandler, {"path": str(FILES_ROOT)}),
        (r"/file-stream/([^/]+)", FileStreamHandler),
        (r"/object/([^/]+)", ObjectHandler),
        (r"/upload", UploadHandler),
        (r"/echo", EchoHandler),
        (r"/probe", ProbeHandler),
        (r"/health", HealthHandler),
    ])


async def serve(host: str, port: int) -> None:
    config = store_config()
    if config is not None:
        Store.client = await Store.stack.enter_async_context(get_session().create_client("s3", **config))
    server = make_app().listen(port, address=host)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        server.stop()
        await Store.stack.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streamspec.adapters.tornado_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--server", choices=("tornado",), default="tornado")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
