"""The scenario contract served by BlackSheep, written the way BlackSheep's docs teach it.

``app = Application()`` with its defaults; routes registered with ``app.router`` decorators:

* ``/stream``: ``Response(200, content=StreamedContent(b"application/octet-stream", provider))`` ("Responses":
  "Chunked encoding ... ``StreamedContent``" takes an async generator *function*), the plan's length passed as
  ``data_length`` when it declares one (else ``-1``: chunked). ``raise_as=http`` raises
  ``blacksheep.exceptions.HTTPException(503, ...)``. No disconnect watcher, no error handling, no
  ``aclosing``: BlackSheep iterates the provider after the handler returned. The docs' provider ends with
  ``yield b""`` (BlackSheep's end-of-body marker); this one yields the producer's chunks as they come and
  adds no marker (``send_asgi_response`` closes the body itself when the provider ends).
* ``/sse``: ``ServerSentEventsResponse(events_provider)`` ("Server-Sent Events": the response class for a
  handler that must also answer 204 or 400), each event a ``TextServerSentEvent(data, event=..., id=...)``, a retry a
  ``TextServerSentEvent("", retry=...)``, a keep-alive tick one with only a ``comment`` (BlackSheep has no
  ping of its own). The docs lead with a handler that is itself an async generator annotated
  ``-> AsyncIterable[ServerSentEvent]``; that form cannot answer 204 or 400, so this uses the page's second
  form ("Defining a server-sent events route controlling the Response object"). The page's "Handling client
  disconnections and application shutdown" teaches ``if await request.is_disconnected(): break`` in the
  event loop ("it is generally necessary to handle client disconnections"), so the provider checks it before
  each item; its other check, ``is_stopping()``, works only with ``APP_SIGNAL_HANDLER=1`` set (not the
  default), so it is left out. ``ServerSentEvent`` itself would JSON-encode every payload (``"data": "An
  object that will be transmitted to the client, in JSON"``); ``TextServerSentEvent`` (exported by
  ``blacksheep.server.sse``, docstring: "A string that will be transmitted to the client as is") is its text
  form.
* ``/file/{name}``: ``file(path_string, content_type, file_name=name)`` ("Responses": "file ... for download
  (attachment)"; its docstring: "this method does not handle cache, ETag and HTTP 304 Not Modified"), the path
  joined to the root as users join it; ``/file-stream/{name}``: ``StreamedContent`` over an aiofiles
  generator with the ``Content-Disposition`` a user writes and the file's size as its length.
* ``/object/{key}``: one aiobotocore client opened in ``app.on_start`` and closed in ``app.on_stop``
  ("Application events"), the body read under ``async with`` in a ``StreamedContent`` provider.
* ``/upload``: ``async for chunk in request.stream()`` ("Requests": reading the body as a stream);
  ``/echo``: ``StreamedContent`` over it.
"""

from __future__ import annotations

import asyncio
from email.utils import formatdate
from pathlib import Path

import aiofiles
from aiobotocore.session import get_session
from blacksheep import Application, Request, Response, StreamedContent
from blacksheep.exceptions import HTTPException
from blacksheep.server.responses import file, json, text
from blacksheep.server.sse import ServerSentEventsResponse, TextServerSentEvent
from botocore.exceptions import ClientError

from streamspec.contract import PlanError, StreamPlan
from streamspec.files import CHUNK_SIZE, bucket, served_root, store_config
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import SseEvent, SseKeepAlive, SsePlan, SseRetry, produce_events
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

FILES_ROOT = served_root() or Path("files")

app = Application()


def first_values(request: Request) -> dict[str, str]:
    """First value of each query parameter, as the reference reads them."""
    return {key: values[0] for key, values in request.query.items() if values}


def header(request: Request, name: bytes) -> str | None:
    value = request.get_first_header(name)
    return value.decode("latin-1") if value is not None else None


def http_error(status: int, message: str) -> HTTPException:
    return HTTPException(status, message)


def answer(status: int, body: str, headers: dict[str, str] | None = None) -> Response:
    response = text(body, status)
    for name, value in (headers or {}).items():
        response.add_header(name.encode(), value.encode())
    return response


@app.router.get("/stream")
async def stream(request: Request) -> Response:
    try:
        plan = StreamPlan.from_query(first_values(request))
    except PlanError as exc:
        return answer(400, str(exc))
    producer = open_stream(plan, http_error=http_error)

    async def provider():
        async for chunk in producer:
            yield chunk

    length = plan.total if plan.content_length else -1
    return Response(200, [(b"Cache-Control", b"no-store")],
                    StreamedContent(b"application/octet-stream", provider, length))


@app.router.get("/sse")
async def sse(request: Request) -> Response:
    try:
        plan = SsePlan.from_request(first_values(request), header(request, b"last-event-id"))
    except PlanError as exc:
        return answer(400, str(exc))
    if plan.exhausted:
        return Response(204)  # nothing left: a browser stops reconnecting

    async def events():
        async for item in produce_events(plan):
            if await request.is_disconnected():  # the docs' check, once per item
                break
            if isinstance(item, SseRetry):
                yield TextServerSentEvent("", retry=item.ms)
            elif isinstance(item, SseEvent):
                yield TextServerSentEvent(item.data, event=item.event, id=str(item.id))
            elif isinstance(item, SseKeepAlive):
                yield TextServerSentEvent("", comment="keep-alive")

    return ServerSentEventsResponse(events, headers=[(b"Cache-Control", b"no-cache"), (b"X-Accel-Buffering", b"no")])


@app.router.get("/file/{name}")
async def download_file(name: str) -> Response:
    path = FILES_ROOT / name
    if not path.is_file():
        return answer(404, "File not found\n")
    return file(str(path), "application/octet-stream", file_name=name)


@app.router.get("/file-stream/{name}")
async def stream_file(name: str) -> Response:
    path = FILES_ROOT / name
    if not path.is_file():
        return answer(404, "File not found\n")

    async def file_sender():
        async with aiofiles.open(path, "rb") as f:
            while chunk := await f.read(CHUNK_SIZE):
                yield chunk

    response = Response(200, None, StreamedContent(b"application/octet-stream", file_sender, path.stat().st_size))
    response.add_header(b"Content-Disposition", f'attachment; filename="{name}"'.encode())
    return response


class Store:
    """The app's one S3 client, opened in on_start and closed in on_stop."""

    client = None
    context = None


async def open_store(application: Application) -> None:
    config = store_config()
    if config is not None:
        Store.context = get_session().create_client("s3", **config)
        Store.client = await Store.context.__aenter__()


async def close_store(application: Application) -> None:
    if Store.context is not None:
        await Store.context.__aexit__(None, None, None)


app.on_start += open_store
app.on_stop += close_store


@app.router.get("/object/{key}")
async def download_object(key: str, request: Request) -> Response:
    params = {"Bucket": bucket(), "Key": key}
    if header(request, b"range"):
        params["Range"] = header(request, b"range")
    try:
        obj = await Store.client.get_object(**params)
    except ClientError as exc:
        error = exc.response["Error"]
        if error.get("Code") == "InvalidRange":
            return answer(416, "Range not satisfiable\n", {"Content-Range": f"bytes */{error['ActualObjectSize']}"})
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return answer(404, "Object not found\n")
        raise

    async def object_sender():
        async with obj["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK_SIZE):
                yield chunk

    headers = [(b"ETag", obj["ETag"].encode()),
               (b"Last-Modified", formatdate(obj["LastModified"].timestamp(), usegmt=True).encode())]
    if "ContentRange" in obj:
        headers.append((b"Content-Range", obj["ContentRange"].encode()))
    return Response(obj["ResponseMetadata"]["HTTPStatusCode"], headers,
                    StreamedContent(obj["ContentType"].encode(), object_sender, obj["ContentLength"]))


@app.router.route("/upload", methods=["POST", "PUT"])
async def upload(request: Request) -> Response:
    try:
        plan = UploadPlan.from_query(first_values(request))
    except PlanError as exc:
        return answer(400, f"{exc}\n")
    with UploadLog(plan) as log:
        if plan.reject:
            return answer(plan.reject, "rejected\n")  # the body is never asked for
        async for chunk in request.stream():
            log.piece(chunk)
            if plan.consume_delay_ms:
                await asyncio.sleep(plan.consume_delay_ms / 1000)
        result = log.finish()
    return json(result)


@app.router.post("/echo")
async def echo(request: Request) -> Response:
    try:
        plan = UploadPlan.from_query(first_values(request))
    except PlanError as exc:
        return answer(400, f"{exc}\n")

    async def echoed():
        with UploadLog(plan) as log:
            async for chunk in request.stream():
                log.piece(chunk)
                if chunk:
                    yield echo_transform(chunk)
                if plan.consume_delay_ms:
                    await asyncio.sleep(plan.consume_delay_ms / 1000)
            log.finish()

    return Response(200, [(b"Cache-Control", b"no-store")], StreamedContent(b"application/octet-stream", echoed))


@app.router.get("/probe")
async def probe(request: Request) -> Response:
    response = json(PROBE.snapshot(first_values(request).get("id")))
    response.add_header(b"Cache-Control", b"no-store")
    return response


@app.router.get("/health")
async def health() -> Response:
    return text("ok\n")
