"""The scenario contract served by Litestar, written the way Litestar's "Responses" usage page teaches it.

``app = Litestar(route_handlers=[...], lifespan=[...])`` with its defaults; each route a decorated handler
(``@get``, ``@post``, ``@route``) returning one of Litestar's response containers:

* ``/stream``: ``Stream(async_generator)`` ("Streaming Responses": "To return a streaming response use the
  ``Stream`` class"), ``Content-Length`` in ``headers`` when the plan declares one; ``raise_as=http`` raises
  ``litestar.exceptions.HTTPException(status_code=503)``. No disconnect watcher, no error handling, no
  ``aclosing``: the container iterates after the handler returned.
* ``/sse``: ``ServerSentEvent(async_generator)`` ("Server Sent Event Responses"), the generator yielding
  ``ServerSentEventMessage(data=..., id=..., event=...)`` for events, ``ServerSentEventMessage(retry=...)``
  for a retry and ``ServerSentEventMessage(comment=...)`` for a keep-alive tick (Litestar has no ping of its
  own). A bad plan or an exhausted resume is answered before the stream (400, 204).
* ``/file/{name}``: ``File(path=..., filename=name)`` ("File Responses"; ``content_disposition_type`` keeps
  its ``"attachment"`` default), the path joined to the root as users join it; ``/file-stream/{name}``:
  ``Stream`` over an aiofiles generator with the ``Content-Disposition`` and ``Content-Length`` a user writes.
* ``/object/{key}``: one aiobotocore client opened by a ``lifespan`` context manager ("Application hooks":
  "lifespan context managers"), the body read under ``async with`` inside a ``Stream`` generator.
* ``/upload``: ``async for chunk in request.stream()`` ("Requests": the request body as a stream), answered
  with a ``Response``; ``/echo``: a ``Stream`` over it.

HEAD: Litestar's ``@get`` handlers do not answer HEAD (``@head`` is a separate handler that must return an
empty body, or a ``File``); none is added, so a HEAD gets what Litestar users get by default.
"""

from __future__ import annotations

import asyncio
import contextlib
from email.utils import formatdate
from pathlib import Path
from typing import AsyncIterator

import aiofiles
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from litestar import Litestar, Request, Response, get, post, route
from litestar.exceptions import HTTPException
from litestar.response import File, ServerSentEvent, Stream
from litestar.response.sse import ServerSentEventMessage

from streamspec.contract import PlanError, StreamPlan
from streamspec.files import CHUNK_SIZE, bucket, served_root, store_config
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import SseEvent, SseKeepAlive, SsePlan, SseRetry, produce_events
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

FILES_ROOT = served_root() or Path("files")


def first_values(request: Request) -> dict[str, str]:
    """First value of each query parameter, as the reference reads them."""
    out: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, value)
    return out


def http_error(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


def text(body: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type="text/plain", headers=headers)


@get("/stream")
async def stream(request: Request) -> Response:
    try:
        plan = StreamPlan.from_query(first_values(request))
    except PlanError as exc:
        return text(str(exc), 400)
    headers = {"Cache-Control": "no-store"}
    if plan.content_length:
        headers["Content-Length"] = str(plan.total)
    return Stream(open_stream(plan, http_error=http_error), media_type="application/octet-stream", headers=headers)


async def sse_messages(plan: SsePlan) -> AsyncIterator[ServerSentEventMessage]:
    async for item in produce_events(plan):
        if isinstance(item, SseRetry):
            yield ServerSentEventMessage(data=None, retry=item.ms)
        elif isinstance(item, SseEvent):
            yield ServerSentEventMessage(data=item.data, id=item.id, event=item.event)
        elif isinstance(item, SseKeepAlive):
            yield ServerSentEventMessage(data=None, comment="keep-alive")


@get("/sse")
async def sse(request: Request) -> Response:
    try:
        plan = SsePlan.from_request(first_values(request), request.headers.get("last-event-id"))
    except PlanError as exc:
        return text(str(exc), 400)
    if plan.exhausted:
        return Response(b"", status_code=204)  # nothing left: a browser stops reconnecting
    return ServerSentEvent(sse_messages(plan), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@get("/file/{name:str}")
async def download_file(name: str) -> Response:
    path = FILES_ROOT / name
    if not path.is_file():
        return text("File not found\n", 404)
    return File(path=path, filename=name)


@get("/file-stream/{name:str}")
async def stream_file(name: str) -> Response:
    path = FILES_ROOT / name
    if not path.is_file():
        return text("File not found\n", 404)

    async def file_sender():
        async with aiofiles.open(path, "rb") as f:
            while chunk := await f.read(CHUNK_SIZE):
                yield chunk

    return Stream(file_sender(), media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(path.stat().st_size)})


class Store:
    """The app's one S3 client, opened and closed by the lifespan."""

    client = None


@contextlib.asynccontextmanager
async def store_lifespan(app: Litestar):
    config = store_config()
    if config is None:
        yield
        return
    async with get_session().create_client("s3", **config) as client:
        Store.client = client
        yield


@get("/object/{key:str}")
async def download_object(key: str, request: Request) -> Response:
    params = {"Bucket": bucket(), "Key": key}
    if "range" in request.headers:
        params["Range"] = request.headers["range"]
    try:
        obj = await Store.client.get_object(**params)
    except ClientError as exc:
        error = exc.response["Error"]
        if error.get("Code") == "InvalidRange":
            return text("Range not satisfiable\n", 416, {"Content-Range": f"bytes */{error['ActualObjectSize']}"})
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return text("Object not found\n", 404)
        raise

    async def object_sender():
        async with obj["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK_SIZE):
                yield chunk

    headers = {"Content-Length": str(obj["ContentLength"]), "ETag": obj["ETag"],
               "Last-Modified": formatdate(obj["LastModified"].timestamp(), usegmt=True)}
    if "ContentRange" in obj:
        headers["Content-Range"] = obj["ContentRange"]
    return Stream(object_sender(), status_code=obj["ResponseMetadata"]["HTTPStatusCode"],
                  media_type=obj["ContentType"], headers=headers)


@route("/upload", http_method=["POST", "PUT"], status_code=200)
async def upload(request: Request) -> Response:
    try:
        plan = UploadPlan.from_query(first_values(request))
    except PlanError as exc:
        return text(f"{exc}\n", 400)
    with UploadLog(plan) as log:
        if plan.reject:
            return text("rejected\n", plan.reject)  # the body is never asked for
        async for chunk in request.stream():
            log.piece(chunk)
            if plan.consume_delay_ms:
                await asyncio.sleep(plan.consume_delay_ms / 1000)
        answer = log.finish()
    return Response(answer, status_code=200)


@post("/echo", status_code=200)
async def echo(request: Request) -> Response:
    try:
        plan = UploadPlan.from_query(first_values(request))
    except PlanError as exc:
        return text(f"{exc}\n", 400)

    async def echoed():
        with UploadLog(plan) as log:
            async for chunk in request.stream():
                log.piece(chunk)
                if chunk:
                    yield echo_transform(chunk)
                if plan.consume_delay_ms:
                    await asyncio.sleep(plan.consume_delay_ms / 1000)
            log.finish()

    return Stream(echoed(), media_type="application/octet-stream", headers={"Cache-Control": "no-store"})


@get("/probe")
async def probe(request: Request) -> Response:
    return Response(PROBE.snapshot(request.query_params.get("id")), headers={"Cache-Control": "no-store"})


@get("/health")
async def health() -> Response:
    return text("ok\n", 200)


app = Litestar(route_handlers=[stream, sse, download_file, stream_file, download_object, upload, echo, probe, health],
               lifespan=[store_lifespan])
