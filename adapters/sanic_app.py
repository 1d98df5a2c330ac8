"""The scenario contract served by Sanic, streamed the way Sanic's documentation teaches it.

Streaming idiom (Sanic >= 21.3, "Response streaming" in the Sanic user guide)::

    response = await request.respond(content_type=..., headers=...)
    await response.send(chunk)      # once per produced chunk
    await response.eof()

Only the carrying of chunks is Sanic's; the producer, the SSE producer and the probe are the shared
ones from ``streamspec``, so a verdict that differs from the reference is Sanic's behaviour.

What this adapter deliberately does *not* do, so that the verdict shows Sanic as users get it:

* no header flush before the first chunk (``request.respond`` sends nothing until the first
  ``send``: that is Sanic's documented behaviour);
* no disconnect watcher: Sanic cancels the handler task when the connection is lost
  (``connection_lost``), which is the framework's own disconnect handling;
* no catching of a mid-stream producer error: it propagates into Sanic's error handling;
* no special HEAD code: the routes accept HEAD and Sanic's HTTP/1 layer drops the body itself.

``raise_as=http`` raises ``SanicException(status_code=503)``, Sanic's documented way to answer with a
status. Sanic has no SSE API: ``/sse`` sends each logical event framed by the shared
``streamspec.sse.encode`` (keep-alives as comment lines) through the same ``response.send()``.

``async with aclosing(producer)`` is plain Python async-generator hygiene (PEP 525 / contextlib), not
disconnect handling: it makes the producer's ``finally`` run when the handler ends for any reason,
as the reference's ``finally: await producer.aclose()`` does.

Files and objects (``streamspec.files``; the Sanic guide, "Responses" and "Streaming" pages, 25.12):

* ``/file/<name>``: Sanic's native file response, ``sanic.response.file_stream(location, filename=name,
  headers={"Content-Length": ...})``, exactly the guide's "File streaming" download: ``file_stream`` for "a
  large file", an ``attachment`` disposition (here through ``filename=``, which makes Sanic write
  ``attachment; filename="<name>"`` itself), and the guide's own recipe for a Content-Length
  (``await aiofiles.os.stat(path)``; without it Sanic sends chunked). Not ``sanic.response.file()``: it reads
  the whole file into memory (``out_stream = await f.read()``), which the guide keeps for small files.
  No ``_range``: Sanic only builds one inside ``app.static`` (``ContentRangeHandler``); the docs never show
  a handler passing it, so a Range request gets the whole file (200), as users get it. No conditionals
  either: ``file_stream`` has none.
* ``/file-stream/<name>``: the hand-written download of the guide's "Response streaming" idiom:
  ``aiofiles.open``, ``response = await request.respond(content_type=..., headers={Content-Length,
  Content-Disposition})``, ``await response.send(chunk)`` per ``CHUNK_SIZE`` read, ``await response.eof()``.
  The disposition is written the way the guide writes it (``'attachment; filename="<name>"'``, no escaping).
* Names: the routes take ``unquote=True``, the documented way (release notes 21.3, "Unquote in route";
  ``app.route(unquote=...)`` in the API docs) to get a percent-encoded name decoded: without it the handler
  sees ``r%C3%A9sum%C3%A9...``. Path safety: none. Sanic's docs teach no check for a name used as a file
  location; the routing guide only warns, for the ``path`` parameter type, that a traversal "is your job to
  protect" against, and ``app.static``'s protections (``follow_external_symlink_files``, resolving under the
  root) are not offered to handlers. So the location is ``os.path.join(root, name)`` and the matrix shows
  what that gives. A missing file is Sanic's ``NotFound`` (404), caught as ``FileNotFoundError`` from the
  ``stat``: the least any download view does; other ``OSError`` (a directory, a NUL) go to Sanic's 500.
* ``/object/<key>``: one aiobotocore client for the server's life, opened in a ``before_server_start``
  listener and kept on ``app.ctx`` (the guide's "Listeners" and "Application context" pattern for a
  connection pool), closed in ``after_server_stop``. The request's ``Range`` goes to ``get_object``
  unchanged; the store's status, Content-Length, Content-Range, ETag, Last-Modified and Content-Type go to
  ``request.respond``; the body is sent with ``iter_chunks(CHUNK_SIZE)``. Store errors become Sanic's own
  exceptions: ``NoSuchKey`` -> ``NotFound``, ``InvalidRange`` -> ``RangeNotSatisfiable`` with
  ``Content-Range: bytes */<ActualObjectSize>`` (from the store's error). Disconnect: Sanic's own, as for
  ``/stream`` (``connection_lost`` cancels the handler task); ``async with obj["Body"]`` closes the store
  body however the handler ends.
* HEAD: no special code on any of the three (as for ``/stream``): Sanic's HTTP/1 layer drops the body.

Uploads (``streamspec.uploads``), the guide's "Request streaming" (sanic.dev, Advanced > Streaming):

* ``POST``/``PUT /upload``: ``app.route(..., methods=["POST", "PUT"], stream=True)`` (the route's
  ``stream`` flag: Sanic then lifts ``request_max_size`` and does not preload the body), then the guide's
  loop ``body = await request.stream.read()`` until it returns ``None``, one ``UploadLog.piece`` per
  read, answered with ``json(answer)``. A ``reject`` returns ``text("rejected\n", status=reject)``
  without reading; Sanic's HTTP/1 layer then drains what is left of the body itself. Other methods get
  Sanic's router 405.
* ``Expect: 100-continue`` is Sanic's own: ``Http.read()`` sends ``100 Continue`` on the first read,
  and ``http1_response_header`` puts ``100 Continue`` in front of any response head (not a 417) still
  owing it, a rejection included.
* ``POST /echo``: the seed's echo (``replace('1', 'A')`` while still receiving) in today's idiom:
  ``response = await request.respond(...)`` first, then ``await response.send(echo_transform(body))``
  per ``request.stream.read()`` piece, ``await response.eof()`` at ``None``. Sanic sends the head with
  the first ``send`` (finding S4).
* A client that leaves mid-body: Sanic's ``connection_lost`` cancels the handler task; the
  ``CancelledError`` leaves ``UploadLog`` (recorded ``aborted``) and propagates.

Run: ``python -m adapters.sanic_app --host 127.0.0.1 --port 8000`` (Sanic's own runner, one
process: ``app.run(..., single_process=True)``), serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from contextlib import AsyncExitStack, aclosing
from email.utils import formatdate
from mimetypes import guess_type

import aiofiles
from aiobotocore.session import get_session
from aiofiles import os as async_os
from botocore.exceptions import ClientError
from sanic import Request, Sanic
from sanic.exceptions import NotFound, RangeNotSatisfiable, SanicException
from sanic.response import file_stream, json, text

from streamspec.contract import PlanError, StreamPlan
from streamspec.files import CHUNK_SIZE, bucket, served_root, store_config
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SsePlan, produce_text
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

app = Sanic("streamspec_sanic")


def query_of(request: Request) -> dict[str, str]:
    """First value of each query parameter, blanks kept (``sizes=`` means zero chunks), as the
    reference parses it; Sanic's ``request.args`` drops blank values by default."""
    return {key: values[0] for key, values in request.get_args(keep_blank_values=True).items()}


@app.route("/stream", methods=["GET", "HEAD"])
async def stream(request: Request):
    try:
        plan = StreamPlan.from_query(query_of(request))
    except PlanError as exc:
        return text(str(exc), status=400)
    # A ProducerError here propagates before anything was sent: Sanic's error handler answers 500.
    producer = open_stream(plan, http_error=http_error)
    headers = {"cache-control": "no-store"}
    if plan.content_length:
        headers["content-length"] = str(plan.total)
    async with aclosing(producer):
        response = await request.respond(content_type="application/octet-stream", headers=headers)
        async for chunk in producer:
            await response.send(chunk)
        await response.eof()


def http_error(status: int, message: str) -> SanicException:
    """The contract's framework HTTP error (``raise_as=http``): Sanic's own exception type."""
    return SanicException(message, status_code=status)


@app.route("/sse", methods=["GET", "HEAD"])
async def sse(request: Request):
    try:
        plan = SsePlan.from_request(query_of(request), request.headers.get("last-event-id"))
    except PlanError as exc:
        return text(str(exc), status=400)
    if plan.exhausted:
        return text("", status=204)  # nothing left: tells a browser to stop reconnecting
    headers = dict(SSE_HEADERS)
    content_type = headers.pop("content-type")
    async with aclosing(produce_text(plan)) as events:
        response = await request.respond(content_type=content_type, headers=headers)
        async for block in events:
            await response.send(block.encode("utf-8"))
        await response.eof()


@app.route("/probe", methods=["GET", "HEAD"])
async def probe(request: Request):
    return json(PROBE.snapshot(query_of(request).get("id")), headers={"cache-control": "no-store"})


@app.route("/health", methods=["GET", "HEAD"])
async def health(request: Request):
    return text("ok\n")


# --- files and objects (streamspec.files) ---------------------------------------------------------------


def file_path(name: str) -> str:
    """The file a request names: the root joined with the (unquoted) name. No check: Sanic's docs teach
    none for a handler (see the module docstring)."""
    return os.path.join(served_root() or ".", name)


@app.route("/file/<name>", methods=["GET", "HEAD"], unquote=True)
async def native_file(request: Request, name: str):
    location = file_path(name)
    try:
        # The guide's "File streaming" download, with its Content-Length recipe (aiofiles.os.stat).
        file_stat = await async_os.stat(location)
    except FileNotFoundError:
        raise NotFound(f"no file {name}") from None
    headers = {"Content-Length": str(file_stat.st_size)}
    return await file_stream(location, chunk_size=CHUNK_SIZE, headers=headers, filename=name)


@app.route("/file-stream/<name>", methods=["GET", "HEAD"], unquote=True)
async def streamed_file(request: Request, name: str):
    location = file_path(name)
    try:
        file_stat = await async_os.stat(location)
    except FileNotFoundError:
        raise NotFound(f"no file {name}") from None
    headers = {"Content-Length": str(file_stat.st_size),
               "Content-Disposition": f'attachment; filename="{name}"'}
    async with aiofiles.open(location, mode="rb") as f:
        response = await request.respond(
            content_type=guess_type(name)[0] or "application/octet-stream", headers=headers)
        while chunk := await f.read(CHUNK_SIZE):
            await response.send(chunk)
        await response.eof()


@app.before_server_start
async def open_store(app: Sanic) -> None:
    """One aiobotocore client for the server's life, kept on ``app.ctx`` (Sanic's listeners guide)."""
    app.ctx.exits = AsyncExitStack()
    config = store_config()
    app.ctx.s3 = None if config is None else await app.ctx.exits.enter_async_context(
        get_session().create_client("s3", **config))


@app.after_server_stop
async def close_store(app: Sanic) -> None:
    await app.ctx.exits.aclose()


@app.route("/object/<key>", methods=["GET", "HEAD"], unquote=True)
async def store_object(request: Request, key: str):
    params = {"Bucket": bucket(), "Key": key}
    if "range" in request.headers:
        params["Range"] = request.headers["range"]
    try:
        obj = await request.app.ctx.s3.get_object(**params)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") in ("NoSuchKey", "404"):
            raise NotFound(f"no object {key}") from None
        if error.get("Code") == "InvalidRange":
            raise RangeNotSatisfiable(headers={"Content-Range": f"bytes */{error['ActualObjectSize']}"})
        raise
    headers = {"Content-Length": str(obj["ContentLength"]), "ETag": obj["ETag"],
               "Last-Modified": formatdate(obj["LastModified"].timestamp(), usegmt=True)}
    if "ContentRange" in obj:
        headers["Content-Range"] = obj["ContentRange"]
    # ``async with`` closes the store body however the handler ends: at the end, on an error, or when
    # Sanic cancels the handler task because the client left (connection_lost).
    async with obj["Body"] as body:
        response = await request.respond(status=obj["ResponseMetadata"]["HTTPStatusCode"], headers=headers,
                                         content_type=obj.get("ContentType", "application/octet-stream"))
        async for chunk in body.iter_chunks(CHUNK_SIZE):
            await response.send(chunk)
        await response.eof()


# --- uploads (streamspec.uploads) -------------------------------------------------------------------------


@app.route("/upload", methods=["POST", "PUT"], stream=True)
async def upload(request: Request):
    """The guide's request streaming: ``await request.stream.read()`` until ``None``."""
    try:
        plan = UploadPlan.from_query(query_of(request))
    except PlanError as exc:
        return text(f"{exc}\n", status=400)
    with UploadLog(plan) as log:
        if plan.reject:
            return text("rejected\n", status=plan.reject)
        while True:
            body = await request.stream.read()
            if body is None:
                break
            log.piece(body)
            if plan.consume_delay_ms:
                await asyncio.sleep(plan.consume_delay_ms / 1000)
        answer = log.finish()
    return json(answer)


@app.post("/echo", stream=True)
async def echo(request: Request):
    """The seed's echo: respond first, then send each transformed piece while the body still arrives."""
    try:
        plan = UploadPlan.from_query(query_of(request))
    except PlanError as exc:
        return text(f"{exc}\n", status=400)
    response = await request.respond(content_type="application/octet-stream",
                                     headers={"cache-control": "no-store"})
    with UploadLog(plan) as log:
        while True:
            body = await request.stream.read()
            if body is None:
                break
            log.piece(body)
            if body:
                await response.send(echo_transform(body))
            if plan.consume_delay_ms:
                await asyncio.sleep(plan.consume_delay_ms / 1000)
        log.finish()
    await response.eof()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.sanic_app", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    # single_process: no worker manager, so the probe's pid is this very process (the launched one).
    app.run(host=args.host, port=args.port, single_process=True, motd=False, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
