"""The scenario contract served by Starlette, written the way Starlette's docs teach it.

``app`` is a plain ``Starlette(routes=[...], lifespan=...)``; ``app_mw`` is the same routes behind one
pass-through ``BaseHTTPMiddleware`` ("Middleware" page, BaseHTTPMiddleware, Usage: "To implement a middleware
class using ``BaseHTTPMiddleware``, you must override the ``async def dispatch(request, call_next)`` method"),
whose ``dispatch`` is ``return await call_next(request)``: most real applications run behind at least one such
middleware, and the matrix shows what it does to streaming (adapter ``starlette-mw``).

* ``/stream``: ``StreamingResponse(async_generator)`` ("Responses" page: "Takes an async generator or a
  normal generator/iterator and streams the response body"), ``Content-Length`` passed in ``headers`` when
  the plan declares it. No disconnect watcher and no error handling: ``StreamingResponse`` runs its own
  ``listen_for_disconnect`` beside the body (ASGI spec_version < 2.4 on all three servers), and a producer
  error propagates to Starlette's ``ServerErrorMiddleware``. ``raise_as=http`` raises
  ``starlette.exceptions.HTTPException(503)``. There is nowhere to put ``aclosing``: the response iterates
  after the endpoint returned, so the cleanup cases measure what Starlette does with the generator.
* ``/sse``: sse-starlette's ``EventSourceResponse`` (the "Third party responses" section of the Responses
  page; its README: "return EventSourceResponse(generator)"), each logical item as its ``ServerSentEvent``
  (``id``, ``event``, ``data``; ``retry`` alone for ``SseRetry``). Its defaults are kept, and this is how they
  meet the contract (sse_starlette/sse.py 3.7.0):
  - ping: README "Customize Ping": "By default, the server sends a ping every 15 seconds. You can customize
    this by: 1. setting the ``ping`` parameter". The plan's ``keepalive`` is passed as ``ping=`` when asked
    (so the producer yields no keep-alive ticks); otherwise its 15 s default runs. A ping is the comment
    ``: ping - <UTC timestamp>`` (a comment line, never dispatched; ``sse.keepalive`` counts it).
  - framing: CRLF line ends (``DEFAULT_SEPARATOR``); multi-line data split at CR, LF and CRLF into one
    ``data:`` line each (``ServerSentEvent.encode``).
  - headers: ``Cache-Control: no-store`` (``setdefault``: the contract asks ``no-cache``; ``sse.no-cache``
    accepts either, as WHATWG's EventSource fetches with cache mode "no-store"), ``X-Accel-Buffering: no``,
    ``Connection: keep-alive``; no headers are passed by the adapter.
  - it watches ``receive()`` for ``http.disconnect`` itself (``_listen_for_disconnect``), and a shutdown
    watcher (it patches uvicorn's ``Server.handle_exit`` at import); ``send_timeout`` is ``None`` (a client
    that stops reading is waited for without bound); HEAD is answered with the head only.
* ``/file/{name}``: ``FileResponse(path, filename=name)`` ("FileResponse: Asynchronously streams a file as
  the response ... ``filename`` - If set, this will be included in the response ``Content-Disposition``";
  ``content_disposition_type`` "attachment" is its default), ``path`` joined to the root as users join it
  (no containment check: the docs show none for a handler). ``{name}`` is Starlette's default ``str``
  convertor (one segment, percent-decoded).
* ``/file-stream/{name}``: ``StreamingResponse`` over a generator reading the file in ``CHUNK_SIZE`` pieces
  with aiofiles, with the ``Content-Disposition`` and ``Content-Length`` a user writes by hand. The
  Responses page says file-like objects "are normal iterators. So, you can return them directly in a
  ``StreamingResponse``"; iterating a binary file yields lines (split at each ``\\n``, read in a thread),
  not the contract's 4096-byte pieces, so the generator reads fixed pieces, the non-blocking way.
* ``/object/{key}``: one aiobotocore client for the app, opened and closed by the ``lifespan`` context
  ("Lifespan" page), ``get_object(Range=...)`` in the endpoint, the body read under ``async with`` in a
  ``StreamingResponse`` generator, the store's status and headers passed on.
* ``/upload``: ``async for chunk in request.stream()`` ("Requests" page, Request Body: "You can also access
  the request body as a stream, using the ``async for`` syntax"), ``/echo``: ``StreamingResponse`` over that
  same stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from email.utils import formatdate
from pathlib import Path

import aiofiles
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from sse_starlette.sse import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from streamspec.contract import PlanError, StreamPlan
from streamspec.files import CHUNK_SIZE, bucket, served_root, store_config
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import SseEvent, SseKeepAlive, SsePlan, SseRetry, produce_events
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

FILES_ROOT = served_root() or Path("files")


def first_values(request) -> dict[str, str]:
    """First value of each query parameter, as the reference reads them."""
    out: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, value)
    return out


def http_error(status: int, message: str) -> HTTPException:
    """The contract's framework HTTP error (``raise_as=http``)."""
    return HTTPException(status_code=status, detail=message)


async def stream(request):
    try:
        plan = StreamPlan.from_query(first_values(request))
    except PlanError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    headers = {"Cache-Control": "no-store"}
    if plan.content_length:
        headers["Content-Length"] = str(plan.total)
    return StreamingResponse(open_stream(plan, http_error=http_error), headers=headers,
                             media_type="application/octet-stream")


async def sse(request):
    try:
        plan = SsePlan.from_request(first_values(request), request.headers.get("last-event-id"))
    except PlanError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    if plan.exhausted:
        return Response(status_code=204)  # nothing left: a browser stops reconnecting

    async def events():
        async for item in produce_events(plan, keepalive_ticks=False):
            if isinstance(item, SseRetry):
                yield ServerSentEvent(retry=item.ms)
            elif isinstance(item, SseEvent):
                yield ServerSentEvent(data=item.data, id=str(item.id), event=item.event)
            elif isinstance(item, SseKeepAlive):  # not asked for: the library pings
                raise AssertionError("keep-alive ticks were not requested")

    ping = {"ping": plan.keepalive_s} if plan.keepalive_s else {}  # README "Customize Ping": the ``ping`` parameter
    return EventSourceResponse(events(), **ping)


async def download_file(request):
    name = request.path_params["name"]
    path = FILES_ROOT / name
    if not path.is_file():
        return PlainTextResponse("File not found\n", status_code=404)
    return FileResponse(path, filename=name)


async def stream_file(request):
    name = request.path_params["name"]
    path = FILES_ROOT / name
    if not path.is_file():
        return PlainTextResponse("File not found\n", status_code=404)

    async def file_sender():
        async with aiofiles.open(path, "rb") as f:
            while chunk := await f.read(CHUNK_SIZE):
                yield chunk

    return StreamingResponse(file_sender(), media_type="application/octet-stream", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(path.stat().st_size)})


class Store:
    """The app's one S3 client, opened and closed by the lifespan."""

    client = None


@contextlib.asynccontextmanager
async def lifespan(app):
    config = store_config()
    if config is None:
        yield
        return
    async with get_session().create_client("s3", **config) as client:
        Store.client = client
        yield


async def download_object(request):
    params = {"Bucket": bucket(), "Key": request.path_params["key"]}
    if "range" in request.headers:
        params["Range"] = request.headers["range"]
    try:
        obj = await Store.client.get_object(**params)
    except ClientError as exc:
        error = exc.response["Error"]
        if error.get("Code") == "InvalidRange":
            return PlainTextResponse("Range not satisfiable\n", status_code=416,
                                     headers={"Content-Range": f"bytes */{error['ActualObjectSize']}"})
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return PlainTextResponse("Object not found\n", status_code=404)
        raise

    async def object_sender():
        async with obj["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK_SIZE):
                yield chunk

    headers = {"Content-Length": str(obj["ContentLength"]), "ETag": obj["ETag"],
               "Last-Modified": formatdate(obj["LastModified"].timestamp(), usegmt=True)}
    if "ContentRange" in obj:
        headers["Content-Range"] = obj["ContentRange"]
    return StreamingResponse(object_sender(), status_code=obj["ResponseMetadata"]["HTTPStatusCode"],
                             media_type=obj["ContentType"], headers=headers)


async def upload(request):
    try:
        plan = UploadPlan.from_query(first_values(request))
    except PlanError as exc:
        return PlainTextResponse(f"{exc}\n", status_code=400)
    with UploadLog(plan) as log:
        if plan.reject:
            return PlainTextResponse("rejected\n", status_code=plan.reject)  # the body is never asked for
        async for chunk in request.stream():
            log.piece(chunk)
            if plan.consume_delay_ms:
                await asyncio.sleep(plan.consume_delay_ms / 1000)
        answer = log.finish()
    return JSONResponse(answer)


async def echo(request):
    try:
        plan = UploadPlan.from_query(first_values(request))
    except PlanError as exc:
        return PlainTextResponse(f"{exc}\n", status_code=400)

    async def echoed():
        with UploadLog(plan) as log:
            async for chunk in request.stream():
                log.piece(chunk)
                if chunk:
                    yield echo_transform(chunk)
                if plan.consume_delay_ms:
                    await asyncio.sleep(plan.consume_delay_ms / 1000)
            log.finish()

    return StreamingResponse(echoed(), media_type="application/octet-stream", headers={"Cache-Control": "no-store"})


async def probe(request):
    return JSONResponse(PROBE.snapshot(request.query_params.get("id")), headers={"Cache-Control": "no-store"})


async def health(request):
    return PlainTextResponse("ok\n")


ROUTES = [
    Route("/stream", stream),
    Route("/sse", sse),
    Route("/file/{name}", download_file),
    Route("/file-stream/{name}", stream_file),
    Route("/object/{key}", download_object),
    Route("/upload", upload, methods=["POST", "PUT"]),
    Route("/echo", echo, methods=["POST"]),
    Route("/probe", probe),
    Route("/health", health),
]


class PassThroughMiddleware(BaseHTTPMiddleware):
    """The middleware most applications have in some form; this one changes nothing."""

    async def dispatch(self, request, call_next):
        return await call_next(request)


app = Starlette(routes=ROUTES, lifespan=lifespan)
app_mw = Starlette(routes=ROUTES, lifespan=lifespan, middleware=[Middleware(PassThroughMiddleware)])
