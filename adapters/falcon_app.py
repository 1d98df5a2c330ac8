"""The scenario contract served by Falcon's ASGI app, written the way Falcon's docs teach it.

``app = falcon.asgi.App(middleware=[StoreLifespan()])`` with its defaults and one resource class per
route, each responder an ``async def on_get(self, req, resp)`` (``on_post``/``on_put`` for uploads):

* ``/stream``: ``resp.stream = async_generator`` (the ASGI "Response" reference: "``stream``: an async
  iterable ... that yields ``bytes``"), ``resp.content_length`` set only when the plan declares a length;
  ``raise_as=http`` raises ``falcon.HTTPError(falcon.HTTP_503)``. No disconnect watcher and no error
  handling: what Falcon does with a producer error after the head is the verdict. No ``aclosing``: Falcon
  iterates the stream after the responder returned.
* ``/sse``: ``resp.sse = async_generator`` of ``falcon.asgi.SSEvent`` ("``sse``: A Server-Sent Event (SSE)
  emitter ... that yields a series of ``falcon.asgi.SSEvent`` instances"): ``SSEvent(text=..., event_id=...,
  event=...)`` for an event, ``SSEvent(retry=...)`` for a retry, and ``SSEvent()`` (Falcon's ``: ping``
  comment, "to keep the connection alive") for a keep-alive tick. Falcon sets ``text/event-stream`` itself.
* ``/file/{name}``: Falcon has no file response class; its FAQ ("How can I serve a downloadable file with
  Falcon?") sets ``resp.stream`` to an open async file (aiofiles), ``resp.content_length`` to its size and
  ``resp.downloadable_as = name`` (which writes the ``Content-Disposition``, RFC 6266/8187 for non-ASCII
  names). That is this adapter's native file route: no ranges, no validators, as in the FAQ.
* ``/file-stream/{name}``: an async generator reading the file in ``CHUNK_SIZE`` pieces, set as
  ``resp.stream``, with the hand-written ``Content-Disposition`` and ``resp.content_length``.
* ``/object/{key}``: one aiobotocore client opened in the ASGI lifespan middleware's ``process_startup``
  and closed in ``process_shutdown`` ("Middleware": "ASGI lifespan events"), the object body streamed by an
  async generator under ``async with`` set as ``resp.stream``.
* ``/upload``: ``async for chunk in req.stream`` (``req.stream``: "a ``BoundedStream`` ... an async iterator
  over the body"); ``/echo``: ``resp.stream`` over that same stream.

HEAD: Falcon runs ``on_get`` for a HEAD when the resource has no ``on_head`` and drops the body; none added.
"""

from __future__ import annotations

import asyncio
import contextlib
from email.utils import formatdate
from pathlib import Path

import aiofiles
import falcon
import falcon.asgi
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from streamspec.contract import PlanError, StreamPlan
from streamspec.files import CHUNK_SIZE, bucket, served_root, store_config
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import SseEvent, SseKeepAlive, SsePlan, SseRetry, produce_events
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

FILES_ROOT = served_root() or Path("files")


def first_values(req) -> dict[str, str]:
    """First value of each query parameter, as the reference reads them."""
    out: dict[str, str] = {}
    for key, value in falcon.uri.parse_query_string(req.query_string, keep_blank=True, csv=False).items():
        out[key] = value[0] if isinstance(value, list) else value
    return out


def http_error(status: int, message: str) -> falcon.HTTPError:
    return falcon.HTTPError(falcon.code_to_http_status(status), description=message)


def bad_request(resp, message: str) -> None:
    resp.status = falcon.HTTP_400
    resp.content_type = falcon.MEDIA_TEXT
    resp.text = message


class StreamResource:
    async def on_get(self, req, resp):
        try:
            plan = StreamPlan.from_query(first_values(req))
        except PlanError as exc:
            return bad_request(resp, str(exc))
        resp.stream = open_stream(plan, http_error=http_error)
        resp.content_type = "application/octet-stream"
        resp.cache_control = ["no-store"]
        if plan.content_length:
            resp.content_length = plan.total


class SseResource:
    async def on_get(self, req, resp):
        try:
            plan = SsePlan.from_request(first_values(req), req.get_header("Last-Event-ID"))
        except PlanError as exc:
            return bad_request(resp, str(exc))
        if plan.exhausted:
            resp.status = falcon.HTTP_204  # nothing left: a browser stops reconnecting
            return

        async def emitter():
            async for item in produce_events(plan):
                if isinstance(item, SseRetry):
                    yield falcon.asgi.SSEvent(retry=item.ms)
                elif isinstance(item, SseEvent):
                    yield falcon.asgi.SSEvent(text=item.data, event_id=str(item.id), event=item.event)
                elif isinstance(item, SseKeepAlive):
                    yield falcon.asgi.SSEvent()  # Falcon's ": ping" comment

        resp.cache_control = ["no-cache"]
        resp.set_header("X-Accel-Buffering", "no")
        resp.sse = emitter()


class FileResource:
    async def on_get(self, req, resp, name):
        path = FILES_ROOT / name
        if not path.is_file():
            raise falcon.HTTPNotFound()
        resp.stream = await aiofiles.open(path, "rb")
        resp.content_length = path.stat().st_size
        resp.content_type = "application/octet-stream"
        resp.downloadable_as = name


class FileStreamResource:
    async def on_get(self, req, resp, name):
        path = FILES_ROOT / name
        if not path.is_file():
            raise falcon.HTTPNotFound()

        async def file_sender():
            async with aiofiles.open(path, "rb") as f:
                while chunk := await f.read(CHUNK_SIZE):
                    yield chunk

        resp.stream = file_sender()
        resp.content_type = "application/octet-stream"
        resp.content_length = path.stat().st_size
        resp.set_header("Content-Disposition", f'attachment; filename="{name}"')


class Store:
    """The app's one S3 client, opened and closed by the lifespan middleware."""

    client = None
    stack = contextlib.AsyncExitStack()


class StoreLifespan:
    async def process_startup(self, scope, event):
        config = store_config()
        if config is not None:
            Store.client = await Store.stack.enter_async_context(get_session().create_client("s3", **config))

    async def process_shutdown(self, scope, event):
        await Store.stack.aclose()


class ObjectResource:
    async def on_get(self, req, resp, key):
        params = {"Bucket": bucket(), "Key": key}
        if req.get_header("Range"):
            params["Range"] = req.get_header("Range")
        try:
            obj = await Store.client.get_object(**params)
        except ClientError as exc:
            error = exc.response["Error"]
            if error.get("Code") == "InvalidRange":
                raise falcon.HTTPRangeNotSatisfiable(int(error["ActualObjectSize"])) from None
            if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise falcon.HTTPNotFound() from None
            raise

        async def object_sender():
            async with obj["Body"] as body:
                async for chunk in body.iter_chunks(CHUNK_SIZE):
                    yield chunk

        resp.status = falcon.code_to_http_status(obj["ResponseMetadata"]["HTTPStatusCode"])
        resp.stream = object_sender()
        resp.content_type = obj["ContentType"]
        resp.content_length = obj["ContentLength"]
        resp.etag = obj["ETag"]
        resp.last_modified = obj["LastModified"]
        if "ContentRange" in obj:
            resp.set_header("Content-Range", obj["ContentRange"])


class UploadResource:
    async def on_post(self, req, resp):
        try:
            plan = UploadPlan.from_query(first_values(req))
        except PlanError as exc:
            return bad_request(resp, f"{exc}\n")
        with UploadLog(plan) as log:
            if plan.reject:
                resp.status = falcon.code_to_http_status(plan.reject)  # the body is never asked for
                resp.text = "rejected\n"
                return
            async for chunk in req.stream:
                log.piece(chunk)
                if plan.consume_delay_ms:
                    await asyncio.sleep(plan.consume_delay_ms / 1000)
            resp.media = log.finish()

    on_put = on_post


class EchoResource:
    async def on_post(self, req, resp):
        try:
            plan = UploadPlan.from_query(first_values(req))
        except PlanError as exc:
            return bad_request(resp, f"{exc}\n")

        async def echoed():
            with UploadLog(plan) as log:
                async for chunk in req.stream:
                    log.piece(chunk)
                    if chunk:
                        yield echo_transform(chunk)
                    if plan.consume_delay_ms:
                        await asyncio.sleep(plan.consume_delay_ms / 1000)
                log.finish()

        resp.stream = echoed()
        resp.content_type = "application/octet-stream"
        resp.cache_control = ["no-store"]


class ProbeResource:
    async def on_get(self, req, resp):
        resp.media = PROBE.snapshot(req.get_param("id"))
        resp.cache_control = ["no-store"]


class HealthResource:
    async def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "ok\n"


app = falcon.asgi.App(middleware=[StoreLifespan()])
app.add_route("/stream", StreamResource())
app.add_route("/sse", SseResource())
app.add_route("/file/{name}", FileResource())
app.add_route("/file-stream/{name}", FileStreamResource())
app.add_route("/object/{key}", ObjectResource())
app.add_route("/upload", UploadResource())
app.add_route("/echo", EchoResource())
app.add_route("/probe", ProbeResource())
app.add_route("/health", HealthResource())
