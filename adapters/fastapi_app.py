"""The scenario contract served by FastAPI, written the way FastAPI's docs teach it.

``app`` is a plain ``FastAPI(lifespan=...)`` with path operations; ``app_mw`` is the same path operations
with one pass-through middleware written as the "Middleware" tutorial teaches (``@app.middleware("http")``
``async def ...(request, call_next): return await call_next(request)``), which is Starlette's
``BaseHTTPMiddleware`` underneath (adapter ``fastapi-mw``).

* ``/stream``: ``StreamingResponse`` returned from a path operation ("Custom Response - HTML, Stream, File,
  others": "Takes an async generator or a normal generator/iterator and streams the response body"),
  ``Content-Length`` in ``headers`` when the plan declares one; ``raise_as=http`` raises
  ``fastapi.HTTPException(503)``. No disconnect watcher, no error handling, no ``aclosing``: the response
  iterates after the path operation returned.
* ``/sse``: FastAPI's own Server-Sent Events support (its docs' "Server-Sent Events (SSE)" tutorial:
  ``response_class=EventSourceResponse`` on a path operation that ``yield``\\ s ``ServerSentEvent`` items),
  which its docs now lead with, so sse-starlette is not used here. Each logical event is a
  ``ServerSentEvent(raw_data=..., id=..., event=...)`` (``raw_data``: "Use this when you need to send
  pre-formatted text ... without JSON encoding"; ``data`` would send the payload JSON-quoted), a retry a
  ``ServerSentEvent(retry=...)``, and a keep-alive tick a ``ServerSentEvent(comment=...)`` ("Useful for
  keep-alive pings"): FastAPI's own idle ping (``: ping`` after 15 s, ``fastapi/sse.py``) has no per-response
  interval, so the plan's ticks are sent as the docs suggest. An SSE path operation is a generator whose
  response has started when it runs, so a bad plan (400) and an exhausted resume (204) are raised as
  ``HTTPException`` by a dependency (``sse_plan``), as the "Dependencies" tutorial raises errors.
* ``/file/{name}``: ``FileResponse(path, filename=name)`` ("FileResponse: Asynchronously streams a file as
  the response"); ``/file-stream/{name}``: ``StreamingResponse`` over an aiofiles generator, the way the
  "Using StreamingResponse with file-like objects" section streams a file, with the ``Content-Disposition``
  and ``Content-Length`` a user adds by hand.
* ``/object/{key}``: one aiobotocore client opened by the ``lifespan`` ("Lifespan Events"), as
  ``adapters/starlette_app.py``.
* ``/upload``: ``async for chunk in request.stream()`` on a ``Request`` parameter ("Using the Request
  Directly"); ``/echo``: ``StreamingResponse`` over it.
"""

from __future__ import annotations

import asyncio
import contextlib
from email.utils import formatdate
from pathlib import Path
from typing import Annotated

import aiofiles
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from streamspec.contract import PlanError, StreamPlan
from streamspec.files import CHUNK_SIZE, bucket, served_root, store_config
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import SseEvent, SseKeepAlive, SsePlan, SseRetry, produce_events
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

FILES_ROOT = served_root() or Path("files")


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


def first_values(request: Request) -> dict[str, str]:
    """First value of each query parameter, as the reference reads them."""
    out: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, value)
    return out


def http_error(status: int, message: str) -> HTTPException:
    return HTTPException(status_code=status, detail=message)


def sse_plan(request: Request) -> SsePlan:
    """The SSE plan, as a dependency: an SSE path operation is a generator whose response has started, so
    a bad plan (400) and an exhausted resume (204) are raised here, before it runs ("Dependencies": raise
    ``HTTPException``; FastAPI answers a 204 with no body)."""
    try:
        plan = SsePlan.from_request(first_values(request), request.headers.get("last-event-id"))
    except PlanError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    if plan.exhausted:
        raise HTTPException(status_code=204)  # nothing left: a browser stops reconnecting
    return plan


def build(app: FastAPI) -> FastAPI:
    """Register the contract's path operations on ``app``."""

    @app.get("/stream")
    async def stream(request: Request):
        try:
            plan = StreamPlan.from_query(first_values(request))
        except PlanError as exc:
            return PlainTextResponse(str(exc), status_code=400)
        headers = {"Cache-Control": "no-store"}
        if plan.content_length:
            headers["Content-Length"] = str(plan.total)
        return StreamingResponse(open_stream(plan, http_error=http_error), headers=headers,
                                 media_type="application/octet-stream")

    @app.get("/sse", response_class=EventSourceResponse)
    async def sse(plan: Annotated[SsePlan, Depends(sse_plan)]):
        async for item in produce_events(plan):
            if isinstance(item, SseRetry):
                yield ServerSentEvent(retry=item.ms)
            elif isinstance(item, SseEvent):
                yield ServerSentEvent(raw_data=item.data, id=str(item.id), event=item.event)
            elif isinstance(item, SseKeepAlive):
                yield ServerSentEvent(comment="keep-alive")

    @app.get("/file/{name}")
    async def download_file(name: str):
        path = FILES_ROOT / name
        if not path.is_file():
            return PlainTextResponse("File not found\n", status_code=404)
        return FileResponse(path, filename=name)

    @app.get("/file-stream/{name}")
    async def stream_file(name: str):
        path = FILES_ROOT / name
        if not path.is_file():
            return PlainTextResponse("File not found\n", status_code=404)

        async def file_sender():
            async with aiofiles.open(path, "rb") as f:
                while chunk := await f.read(CHUNK_SIZE):
                    yield chunk

        return StreamingResponse(file_sender(), media_type="application/octet-stream", headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Content-Length": str(path.stat().st_size)})

    @app.get("/object/{key}")
    async def download_object(key: str, request: Request):
        params = {"Bucket": bucket(), "Key": key}
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

    @app.api_route("/upload", methods=["POST", "PUT"])
    async def upload(request: Request):
        try:
            plan = UploadPlan.from_query(first_values(request))
        except PlanError as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400)
        with UploadLog(plan) as log:
            if plan.reject:
                return PlainTextResponse("rejected\n", status_code=plan.reject)
            async for chunk in request.stream():
                log.piece(chunk)
                if plan.consume_delay_ms:
                    await asyncio.sleep(plan.consume_delay_ms / 1000)
            answer = log.finish()
        return JSONResponse(answer)

    @app.post("/echo")
    async def echo(request: Request):
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

        return StreamingResponse(echoed(), media_type="application/octet-stream",
                                 headers={"Cache-Control": "no-store"})

    @app.get("/probe")
    async def probe(request: Request):
        return JSONResponse(PROBE.snapshot(request.query_params.get("id")), headers={"Cache-Control": "no-store"})

    @app.get("/health")
    async def health():
        return PlainTextResponse("ok\n")

    return app


app = build(FastAPI(lifespan=lifespan))
app_mw = build(FastAPI(lifespan=lifespan))


@app_mw.middleware("http")
async def pass_through(request: Request, call_next):
    """The "Middleware" tutorial's shape, changing nothing."""
    return await call_next(request)
