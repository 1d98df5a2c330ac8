"""The scenario contract served by aiohttp, written the way aiohttp's documentation teaches streaming.

``/stream`` is the documented idiom verbatim: ``resp = web.StreamResponse()``, ``await
resp.prepare(request)``, ``await resp.write(chunk)`` per produced chunk, ``await resp.write_eof()``.
Everything else is left to aiohttp as users get it, because the verdict must describe the framework,
not our workarounds:

* a ``ProducerError`` before ``prepare()`` propagates; aiohttp's request handler turns any unhandled
  exception into a complete ``500 Internal Server Error``;
* a producer exception after ``prepare()`` propagates too; aiohttp then finds output already sent and
  closes the connection (``handle_error`` raises ``ConnectionError``), so the body is truncated;
* client disconnects: aiohttp's documented default is "raise on read/write" (``handler_cancellation``
  is off unless ``run_app`` is told otherwise), so a handler learns that its client left only when a
  ``write()`` fails. We keep that default and add no watcher;
* HEAD: ``add_get`` registers HEAD on the same handler (``allow_head=True``); whatever aiohttp then
  does with the written chunks is its default (see reports/findings/aiohttp.md).

The producer is wrapped in ``contextlib.aclosing`` so that whenever the handler leaves the loop
(done, write failed, producer raised) the generator's ``finally`` runs at once rather than whenever it
is garbage collected (the failed write's traceback keeps it in a reference cycle): plain async-generator
hygiene, as the reference's ``await producer.aclose()``, not disconnect detection.

``raise_as=http``: the producer raises ``web.HTTPServiceUnavailable`` (aiohttp's own HTTP error type,
the way aiohttp handlers signal a status); before ``prepare()`` aiohttp answers it as a complete 503.

``/sse`` is aiohttp-sse's API end to end (what aiohttp users reach for): ``sse_response`` gives the
response and its headers, every logical event goes out through ``resp.send(data, id=, event=)``, so the
library frames it, and keep-alives are the library's own ``: ping`` task with ``ping_interval`` set to
the plan's keep-alive interval (the shared producer yields no keep-alive ticks here). A ``retry`` item is
passed as ``send(..., retry=)`` with the first event: aiohttp-sse has no call that sends a retry field
alone (``send("", retry=)`` would dispatch an empty message). Its defaults stay: CRLF separators, its
405 for HEAD (findings N1, N2).

Files and objects (``streamspec.files``), all three registered with ``add_get`` (so HEAD runs the GET
handler, aiohttp's default, as for ``/stream``):

* ``/file/<name>`` is ``web.FileResponse(root / name, headers={"Content-Disposition": ...})``: aiohttp's
  native file response (web_reference "FileResponse": it "supports the Content-Range and If-Range HTTP
  Headers", sends with ``loop.sendfile``, answers 404/403 and the conditionals itself), returned from the
  handler as the docs' one example does (migration_to_2xx: ``return web.FileResponse('path-to-file.txt')``).
  Its ``headers`` mapping "should be added to response's ones": that is where the attachment goes.
* ``Content-Disposition``: aiohttp teaches no download view and has no response API that names an
  attachment (no ``filename=``/``as_attachment`` as in Django, Starlette or Sanic); the only helper,
  ``Payload.set_content_disposition`` (multipart docs) → ``helpers.content_disposition_header``, is for
  MIME parts and percent-encodes the name inside the quotes (RFC 7578, "not the HTTP Content-Disposition
  from RFC 6266", its docstring says). So the value is written by hand the way aiohttp users write it
  (``f'attachment; filename="{name}"'``, as in the aiohttp/aiobotocore download gists): no escaping of a
  ``"`` in the name and no ``filename*`` for a non-ASCII one (aiohttp sends such a header as UTF-8).
* Path safety: none added. The docs teach none for a handler that builds a path from ``match_info``
  (their upload example joins the client's filename with ``os.path.join``); the symlink and traversal
  protections they describe (``follow_symlinks=False``, the normalisation in ``StaticResource``) belong
  to ``web.static()``/``add_static``, which cannot send an attachment. ``{name}`` is the docs' default
  variable part, "matches the regular expression ``[^{}/]+``".
* ``/file-stream/<name>`` is the hand-written download of the seeds (the aiohttp streaming tutorial's
  ``StreamResponse`` / ``prepare()`` / ``write()`` / ``write_eof()``, the aiofiles download view with
  its ``is_file()`` 404 and ``Content-Length`` from ``stat()``, the ``chunk_size=4096`` of
  ``AiofileFileResponse``). Content-Type from ``mimetypes.guess_type(name)``, as ``FileResponse`` derives
  it (the seeds' fixed ``application/octet-stream`` would only make .txt differ from the native route).
  No Range support (a full 200 is legal); no ``aclosing`` needed: ``async with aiofiles.open`` closes the
  file when a write fails. HEAD runs the same handler, so the file follows the HEAD head (finding A1).
* Findings: A4 (traversal through ``%2F`` and symlinks), A5, A6 (the hand-written disposition), A7-A9
  in reports/findings/aiohttp.md.
* ``/object/<key>`` uses one aiobotocore client for the app's life, made in ``cleanup_ctx`` (aiohttp's
  documented place for a long-lived client, web_advanced "Cleanup Context"); ``get_object(Bucket, Key,
  Range=<the request's Range>)``; the store's status, Content-Type, Content-Length, Last-Modified
  (``resp.last_modified``), ETag, Content-Range and Accept-Ranges go into a ``web.StreamResponse``; the
  body is read under ``async with obj["Body"]`` (aiobotocore's example: it releases the connection) with
  ``iter_chunks(CHUNK_SIZE)`` and one ``resp.write()`` per chunk. ``NoSuchKey`` → ``web.HTTPNotFound``;
  ``InvalidRange`` → ``web.HTTPRequestRangeNotSatisfiable`` with ``Content-Range: bytes */<size>`` from
  the error's ``ActualObjectSize``. A client that leaves is noticed the way aiohttp's docs say, at the
  next write ("raise on read/write", the default kept above): the write raises, ``async with`` closes the
  body at once. Nothing watches a client that leaves while the store is slow (finding A2's policy).

Uploads (``streamspec.uploads``), the request body read the way aiohttp's Streaming API teaches it
(streams.rst: ``request.content`` is a ``StreamReader`` "for accessing raw BODY data"):

* ``POST``/``PUT /upload`` (``add_post`` + ``add_put``; aiohttp's router answers 405 to the rest):
  ``async for data in request.content.iter_any()`` ("yield all available data as soon as it is
  received"), one ``UploadLog.piece`` per read, then ``web.json_response`` of the answer. A ``reject``
  returns ``web.Response(status=reject)`` before ``request.content`` is touched. ``Expect:
  100-continue`` is left to aiohttp's default ``expect_handler`` (``_default_expect_handler``), which
  the router runs before the handler: it writes ``100 Continue`` for every matched route, also a
  rejected one (what the suite sees, not a workaround of ours).
* ``POST /echo``: ``web.StreamResponse`` ``prepare()``-d before the body is read, then one
  ``resp.write(echo_transform(data))`` per ``iter_any()`` piece and ``write_eof()`` when the body ends.
* A client that leaves mid-body: aiohttp's ``connection_lost`` calls ``request._cancel(exc)``, which
  sets the ``ConnectionResetError("Connection lost")`` on ``request.content``; the pending read raises
  it inside ``UploadLog`` (recorded ``aborted``) and it propagates (no handler cancellation, the
  default kept above).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import mimetypes
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiofiles
from aiobotocore.session import get_session
from aiohttp import web
from aiohttp_sse import sse_response
from botocore.exceptions import ClientError

from streamspec import files
from streamspec.contract import PlanError, StreamPlan
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SseEvent, SseKeepAlive, SsePlan, SseRetry, produce_events
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

STREAM_HEADERS = {"Content-Type": "application/octet-stream", "Cache-Control": "no-store"}


async def stream(request: web.Request) -> web.StreamResponse:
    """``GET``/``HEAD /stream``: one ``resp.write()`` per produced chunk."""
    try:
        plan = StreamPlan.from_query(request.query)
    except PlanError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    # ProducerError propagates: aiohttp answers a complete 500; its HTTP error type answers 503
    producer = open_stream(plan, http_error=http_error)
    resp = web.StreamResponse(headers=STREAM_HEADERS)
    if plan.content_length:
        resp.content_length = plan.total
    await resp.prepare(request)
    async with contextlib.aclosing(producer):
        async for chunk in producer:
            await resp.write(chunk)
    await resp.write_eof()
    return resp


def http_error(status: int, message: str) -> web.HTTPException:
    """The contract's framework HTTP error (``raise_as=http``): aiohttp's exception for that status."""
    return web.HTTPServiceUnavailable(text=message) if status == 503 else web.HTTPException(text=message)


async def sse(request: web.Request) -> web.StreamResponse:
    """``GET /sse``: aiohttp-sse frames every event and sends its own pings."""
    try:
        plan = SsePlan.from_request(request.query, request.headers.get("Last-Event-ID"))
    except PlanError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    if plan.exhausted:
        return web.Response(status=204)  # nothing left: tells a browser to stop reconnecting
    ping = {"ping_interval": plan.keepalive_s} if plan.keepalive_s else {}
    async with sse_response(request, headers=dict(SSE_HEADERS), **ping) as resp:
        retry = None
        async with contextlib.aclosing(produce_events(plan, keepalive_ticks=False)) as items:
            async for item in items:
                if isinstance(item, SseRetry):
                    retry = item.ms  # aiohttp-sse sends retry only as part of a message
                elif isinstance(item, SseEvent):
                    await resp.send(item.data, id=str(item.id), event=item.event, retry=retry)
                    retry = None
                elif isinstance(item, SseKeepAlive):  # not asked for: the library pings
                    raise AssertionError("keep-alive ticks were not requested")
    return resp


def disposition(name: str) -> str:
    """The Content-Disposition value, formatted by hand as aiohttp users write it: aiohttp has no response
    API that names an attachment (module docstring, "Files")."""
    return f'attachment; filename="{name}"'


def served_path(request: web.Request, name: str) -> Path:
    """``<root>/<name>``, joined as the docs join a user-supplied name (``os.path.join(dir, filename)``
    in "File Uploads"): no check beyond it, the docs teach none for a handler-built path."""
    root = request.app[FILES_ROOT]
    if root is None:  # the suite set no fixture root: nothing to serve
        raise web.HTTPNotFound()
    return root / name


async def file(request: web.Request) -> web.FileResponse:
    """``GET``/``HEAD /file/<name>``: aiohttp's native ``web.FileResponse`` as an attachment; aiohttp does
    Range, If-Range, conditionals, HEAD, 404/403 and sendfile itself."""
    name = request.match_info["name"]
    return web.FileResponse(served_path(request, name), headers={"Content-Disposition": disposition(name)})


async def file_stream(request: web.Request) -> web.StreamResponse:
    """``GET``/``HEAD /file-stream/<name>``: the hand-written download: a 404 for a missing file, then
    ``web.StreamResponse`` with Content-Length and Content-Disposition, aiofiles reads of ``CHUNK_SIZE``
    bytes, one ``resp.write()`` each, ``write_eof()``."""
    name = request.match_info["name"]
    path = served_path(request, name)
    if not path.is_file():
        raise web.HTTPNotFound()
    resp = web.StreamResponse(headers={"Content-Disposition": disposition(name)})
    resp.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    resp.content_length = path.stat().st_size
    await resp.prepare(request)
    async with aiofiles.open(path, "rb") as f:
        while chunk := await f.read(files.CHUNK_SIZE):
            await resp.write(chunk)
    await resp.write_eof()
    return resp


async def store_object(request: web.Request) -> web.StreamResponse:
    """``GET``/``HEAD /object/<key>``: ``get_object`` through the app's aiobotocore client (the request's
    Range passed on), the store's status and headers passed back, the body streamed in 4096-byte reads.
    The body is released by ``async with`` whenever the handler leaves, also when a write fails because
    the client left (aiohttp's default: a disconnect surfaces at the next write)."""
    key = request.match_info["key"]
    s3 = request.app[S3]
    if s3 is None:  # the suite set no store
        raise web.HTTPServiceUnavailable(text="no object store configured")
    extra = {"Range": request.headers["Range"]} if "Range" in request.headers else {}
    try:
        obj = await s3.get_object(Bucket=files.bucket(), Key=key, **extra)
    except ClientError as exc:
        error = exc.response["Error"]
        if error.get("Code") in ("NoSuchKey", "404"):
            raise web.HTTPNotFound() from None
        if error.get("Code") == "InvalidRange":
            raise web.HTTPRequestRangeNotSatisfiable(
                headers={"Content-Range": f"bytes */{error['ActualObjectSize']}"}) from None
        raise
    resp = web.StreamResponse(status=obj["ResponseMetadata"]["HTTPStatusCode"])
    resp.content_type = obj["ContentType"]
    resp.content_length = obj["ContentLength"]
    resp.last_modified = obj["LastModified"]
    resp.headers["ETag"] = obj["ETag"]
    if obj.get("ContentRange"):
        resp.headers["Content-Range"] = obj["ContentRange"]
    if obj.get("AcceptRanges"):
        resp.headers["Accept-Ranges"] = obj["AcceptRanges"]
    async with obj["Body"] as body:
        await resp.prepare(request)
        async for chunk in body.iter_chunks(files.CHUNK_SIZE):
            await resp.write(chunk)
    await resp.write_eof()
    return resp


@contextlib.asynccontextmanager
async def s3_client(app: web.Application) -> AsyncIterator[None]:
    """One aiobotocore S3 client for the app's life: aiohttp's ``cleanup_ctx``, the way its docs keep a
    client session ("Cleanup Context"). None when the suite configured no store."""
    config = files.store_config()
    if config is None:
        app[S3] = None
        yield
        return
    async with get_session().create_client("s3", **config) as client:
        app[S3] = client
        yield


def upload_plan(request: web.Request) -> UploadPlan:
    try:
        return UploadPlan.from_query(request.query)
    except PlanError as exc:
        raise web.HTTPBadRequest(text=f"{exc}\n") from None


async def upload(request: web.Request) -> web.Response:
    """``POST``/``PUT /upload``: ``request.content.iter_any()``, one piece per read, answered with the
    count and sha256; a ``reject`` is answered before the body is touched."""
    plan = upload_plan(request)
    with UploadLog(plan) as log:
        if plan.reject:
            return web.Response(status=plan.reject, text="rejected\n")
        async for data in request.content.iter_any():
            log.piece(data)
            if plan.consume_delay_ms:
                await asyncio.sleep(plan.consume_delay_ms / 1000)
        answer = log.finish()
    return web.json_response(answer)


async def echo(request: web.Request) -> web.StreamResponse:
    """``POST /echo``: a ``StreamResponse`` prepared at once, then one ``write()`` of each transformed
    piece as ``request.content.iter_any()`` yields it, ``write_eof()`` when the body ends."""
    plan = upload_plan(request)
    resp = web.StreamResponse(headers=STREAM_HEADERS)
    await resp.prepare(request)
    with UploadLog(plan) as log:
        async for data in request.content.iter_any():
            log.piece(data)
            await resp.write(echo_transform(data))
            if plan.consume_delay_ms:
                await asyncio.sleep(plan.consume_delay_ms / 1000)
        log.finish()
    await resp.write_eof()
    return resp


async def probe(request: web.Request) -> web.Response:
    return web.json_response(PROBE.snapshot(request.query.get("id")))


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


FILES_ROOT = web.AppKey("files_root", object)  # Path | None
S3 = web.AppKey("s3", object)  # the aiobotocore S3 client, or None


def make_app() -> web.Application:
    app = web.Application()
    app[FILES_ROOT] = files.served_root()
    app.cleanup_ctx.append(s3_client)
    app.router.add_get("/stream", stream)
    app.router.add_get("/sse", sse)
    app.router.add_get("/probe", probe)
    app.router.add_get("/health", health)
    app.router.add_get("/file/{name}", file)
    app.router.add_get("/file-stream/{name}", file_stream)
    app.router.add_get("/object/{key}", store_object)
    app.router.add_post("/upload", upload)
    app.router.add_put("/upload", upload)
    app.router.add_post("/echo", echo)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.aiohttp_app", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    # aiohttp's own runner with its defaults (handler_cancellation=False); it exits on SIGINT/SIGTERM.
    web.run_app(make_app(), host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
