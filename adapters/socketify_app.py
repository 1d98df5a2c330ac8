"""The scenario contract served by socketify.py's native API (uWebSockets underneath), as its docs teach.

Why it looks the way it does (socketify docs: "Streaming data", "All Basic Stuff"):

* a declared length (``cl=1``) streams with ``res.send_chunk(buffer, total)``: the docs' own helper,
  which wraps ``try_end`` + ``on_writable`` + ``on_aborted`` and returns a future, so awaiting it is
  where backpressure reaches the producer; the loop stops when ``(ok, done)`` says so or
  ``res.aborted`` is set, exactly like the docs' example;
* an unknown length uses the native chunked API, ``res.write(data)`` per chunk then ``res.end(b"")``,
  each inside ``res.cork(...)``: the "Corking" page says writes after an ``await`` are not corked
  by default and should be wrapped (otherwise every header line and chunk frame is its own send).
  socketify's ``write`` returns the response object, not uWS's "ok" flag, and its docs teach
  ``on_writable`` / ``get_write_offset`` only together with ``try_end`` (a known total), so this
  path has no backpressure hook; we add none (see reports/findings/socketify.md);
* disconnects: socketify grabs the abort handler of every async route and sets ``res.aborted``; the
  docs teach checking that flag between chunks (``while not res.aborted``), nothing more, so that is
  all we do;
* errors: an exception escaping an async handler goes to socketify's task wrapper, which calls the
  app's error handler (default: log, then ``write_status(500).end("Internal Error")``). We let both
  the before-start ``ProducerError`` and mid-stream producer errors take that path;
* socketify has no HTTP error type (``raise_as=http`` is a capability it lacks) and no SSE API:
  ``/sse`` writes each logical event framed by the shared ``streamspec.sse.encode``;
* ``req`` is only valid before the handler's first ``await`` (docs: "Preserve data for use after
  await"), so the query and headers are read first.

Downloads (socketify docs: "Sending Files and Serving Static Files", "Streaming data", "All Basic Stuff"):

* ``/file/<name>``: socketify's own file response is the ``sendfile(res, req, filename)`` helper (the
  docs' way to "send a single file", with 304 and byte-range support; ``app.static`` serves a whole
  directory under its own URLs and cannot add a header). The attachment header is the one the docs
  teach for a download, ``res.write_header("Content-Disposition", 'attachment; filename="..."')``,
  with the file's name put between the quotes (socketify has no helper that builds it). It has to be
  written before ``await sendfile(...)``: the helper writes status and headers itself and takes no
  extra headers (so uWS sends "200 OK" with that header, and whatever status ``sendfile`` picks
  later is dropped: finding S9; the docs' header with a non-ASCII or quoted name: S14);
* the name: the route is ``/file/:name`` and ``req.get_parameter(0)`` returns the raw, still
  percent-encoded segment (uWS decodes nothing), so it is decoded once with ``urllib.parse.unquote``
  (without it no name with a space or a non-ASCII letter is ever found) and joined to the root with
  ``os.path.join``. No containment check: the docs teach none for ``sendfile``, which takes any path
  (``app.static`` checks ``realpath`` containment inside its own handler, ``helpers.in_directory``,
  which is neither documented nor exported), so none is added here (finding S15);
* ``/file-stream/<name>``: the "Streaming data" example almost verbatim: ``os.stat`` for the total,
  ``aiofiles.open``, then ``while not res.aborted: buffer = await fd.read(...)`` and
  ``(ok, done) = await res.send_chunk(buffer, total)``, stopping on ``not ok or done``. Chunks are
  ``streamspec.files.CHUNK_SIZE`` (the docs read 16 KiB). ``Content-Length`` is not written by hand:
  ``send_chunk`` passes the total to ``try_end``, and uWS writes ``Content-Length`` from it (writing
  it too would send it twice). Content-Type from ``mimetypes`` as ``sendfile`` does, plus the
  attachment header above. A missing file raises in ``os.stat`` and takes the error-handler path
  (500), as the docs' example would; a file that shrinks mid-download is never finished (S16);
* HEAD: uWS routes by exact method (finding S1), so each download route is registered with both
  ``app.get`` and ``app.head`` (the routes page's API) and the same handler; nothing else is done for
  HEAD on the file routes, since socketify's helpers take no notice of the method (so HEAD gets the
  body: S12);
* ``/object/<key>``: one aiobotocore client for the process, opened in ``app.on_start`` and closed in
  ``app.on_shutdown`` (docs: "Lifespan / Lifecycle events" suggest them for connection pools). The
  handler calls ``get_object(Bucket, Key, Range=<the request's Range>)`` (``head_object`` for HEAD),
  maps the store's ``NoSuchKey``/404 to 404 and ``InvalidRange`` to 416 with
  ``Content-Range: bytes */<size>``, passes back the status (206 when the store sent ``ContentRange``),
  ``Content-Type``, ``ETag``, ``Last-Modified`` and ``Content-Range``, and streams the body with the
  same ``send_chunk`` loop (uWS writes ``Content-Length`` from the total); status and headers are
  written inside ``res.cork(...)``, since they come after an ``await`` ("Corking"). The body is read inside
  ``async with obj["Body"]`` (aiobotocore's way to release the connection), and the loop checks
  ``res.aborted`` between chunks (the docs' disconnect check), so leaving the block on an abort closes
  the store's response. Any other store error takes the error-handler path. Under socketify 0.0.31
  every aiobotocore call made before the handler's first ``await`` fails (finding S10).

Uploads (``streamspec.uploads``; socketify docs: "Uploading or Getting the Posting data", "All Basic Stuff"):

* ``POST|PUT /upload``: ``res.on_data((res, chunk, is_end))``, the docs' way to "grab any chunk", each chunk
  fed to the ``UploadLog`` from inside the callback; the async handler awaits a future from
  ``res.app.loop.create_future()`` that ``is_end`` resolves, as ``res.get_data()`` and the docs'
  ``helpers/form_data.py`` do; ``res.on_aborted`` settles it with an exception (socketify raises none of its
  own), so a client that leaves is recorded ``aborted``. ``reject`` answers before ``on_data`` is registered.
  ``consume_delay`` is the docs' ``res.pause()`` / ``res.resume()`` (resume from ``res.run_async``); in
  0.0.31 a paused body never resumes (socketify_upload_repro ``resume``). uWS answers ``Expect:
  100-continue`` itself before any handler (HttpContext.h ``onHttp``).
* ``POST /echo``: status and headers first, then ``res.write(echo_transform(chunk))`` inside each ``on_data``
  (corked), ``res.end(b"")`` at ``is_end``; the head goes out with the first write (S3), and ``write`` has no
  backpressure (S7).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import mimetypes
import os
from datetime import UTC
from email.utils import format_datetime
from urllib.parse import unquote

import aiofiles
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from socketify import App, AppListenOptions, sendfile

from streamspec import files
from streamspec.contract import PlanError, StreamPlan
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SsePlan, produce_text
from streamspec.uploads import UploadLog, UploadPlan, echo_transform


def query_of(req) -> dict[str, str]:
    """First value of each query parameter (``get_queries`` gives lists, like ``parse_qs``)."""
    return {key: values[0] for key, values in (req.get_queries() or {}).items() if values}


async def stream(res, req) -> None:
    try:
        plan = StreamPlan.from_query(query_of(req))
    except PlanError as exc:
        res.write_status(400).end(str(exc))
        return
    producer = open_stream(plan)  # ProducerError propagates: socketify's error handler answers 500
    res.write_status(200)
    res.write_header("Content-Type", "application/octet-stream")
    res.write_header("Cache-Control", "no-store")
    async with contextlib.aclosing(producer):
        if plan.content_length:
            await send_with_length(res, producer, plan.total)
        else:
            await send_chunked(res, producer)


async def send_with_length(res, producer, total: int) -> None:
    """The docs' ``send_chunk`` loop: each await returns once uWS took the chunk (or the client left)."""
    if total == 0:
        res.end(b"")
        return
    async for data in producer:
        if res.aborted:
            break
        ok, done = await res.send_chunk(data, total)
        if not ok or done:
            break


async def send_chunked(res, producer) -> None:
    """Unknown length: the native chunked write API (``write`` per chunk, ``end`` to finish)."""
    async for data in producer:
        if res.aborted:
            break
        res.cork(lambda r: r.write(data))  # after an await only res.cork() packs a write into one send
    res.cork(lambda r: r.end(b""))


async def sse(res, req) -> None:
    try:
        plan = SsePlan.from_request(query_of(req), req.get_header("last-event-id"))
    except PlanError as exc:
        res.write_status(400).end(str(exc))
        return
    if plan.exhausted:
        res.write_status(204).end_without_body()
        return
    res.write_status(200)
    for key, value in SSE_HEADERS:
        res.write_header(key, value)
    blocks = produce_text(plan)
    async with contextlib.aclosing(blocks):
        async for block in blocks:
            if res.aborted:
                break
            data = block.encode("utf-8")
            res.cork(lambda r: r.write(data))
    res.cork(lambda r: r.end(b""))


def probe(res, req) -> None:
    body = PROBE.snapshot(query_of(req).get("id"))
    res.send(body, headers=(("Cache-Control", "no-store"),))


def health(res, req) -> None:
    res.send(b"ok\n")


def attachment(name: str) -> str:
    """The docs' download header ("All Basic Stuff": ``'attachment; filename="message.txt"'``), filled in."""
    return f'attachment; filename="{name}"'


async def download(res, req) -> None:
    """``/file/<name>``: socketify's own file response, the ``sendfile`` helper ("Sending Files")."""
    name = unquote(req.get_parameter(0))  # uWS hands the raw, still percent-encoded segment
    res.write_header("Content-Disposition", attachment(name))
    await sendfile(res, req, os.path.join(files.served_root(), name))


async def download_stream(res, req) -> None:
    """``/file-stream/<name>``: the "Streaming data" page's aiofiles + ``send_chunk`` loop."""
    name = unquote(req.get_parameter(0))
    filename = os.path.join(files.served_root(), name)
    total = os.stat(filename).st_size
    res.write_header("Content-Type", mimetypes.guess_type(filename)[0] or "application/octet-stream")
    res.write_header("Content-Disposition", attachment(name))
    async with aiofiles.open(filename, "rb") as fd:
        while not res.aborted:
            buffer = await fd.read(files.CHUNK_SIZE)
            (ok, done) = await res.send_chunk(buffer, total)
            if not ok or done:
                break


class Store:
    """One aiobotocore S3 client for the process, opened in ``app.on_start`` (docs: "Lifespan")."""

    client = None
    _stack: contextlib.AsyncExitStack | None = None

    @classmethod
    async def open(cls) -> None:
        config = files.store_config()
        if config is None:
            return
        cls._stack = contextlib.AsyncExitStack()
        cls.client = await cls._stack.enter_async_context(get_session().create_client("s3", **config))

    @classmethod
    async def close(cls) -> None:
        if cls._stack is not None:
            await cls._stack.aclose()


def http_date(value) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


async def get_object(res, req) -> None:
    """``/object/<key>``: ``get_object`` with the request's Range, the store's answer passed back."""
    key = unquote(req.get_parameter(0))
    range_header = req.get_header("range")
    head = req.get_method().upper() == "HEAD"
    params = {"Bucket": files.bucket(), "Key": key}
    if range_header:
        params["Range"] = range_header
    try:
        obj = await (Store.client.head_object(**params) if head else Store.client.get_object(**params))
    except ClientError as err:
        error = err.response.get("Error", {})
        code = str(error.get("Code"))
        if code in ("NoSuchKey", "404", "NotFound"):
            res.cork(lambda r: r.write_status(404).end("Not Found"))
            return
        if code in ("InvalidRange", "416"):
            size = error.get("ActualObjectSize")
            if size is None:
                size = (await Store.client.head_object(Bucket=files.bucket(), Key=key))["ContentLength"]
            res.cork(lambda r: r.write_status(416).write_header("Content-Range", f"bytes */{size}")
                     .end("Range Not Satisfiable"))
            return
        raise
    length = obj["ContentLength"]

    def send_head(r) -> None:
        r.write_status(206 if obj.get("ContentRange") else 200)
        r.write_header("Content-Type", obj.get("ContentType", "application/octet-stream"))
        r.write_header("ETag", obj["ETag"])
        r.write_header("Last-Modified", http_date(obj["LastModified"]))
        r.write_header("Accept-Ranges", "bytes")
        if obj.get("ContentRange"):
            r.write_header("Content-Range", obj["ContentRange"])
        if head:
            r.write_header("Content-Length", str(length))
            r.end_without_body()

    res.cork(send_head)
    if head:
        return
    async with obj["Body"] as body:  # aiobotocore: leaving the block releases the store's connection
        if length == 0:
            res.cork(lambda r: r.end(b""))
            return
        async for chunk in body.iter_chunks(files.CHUNK_SIZE):
            if res.aborted:
                break
            (ok, done) = await res.send_chunk(chunk, length)
            if not ok or done:
                break


class ClientLeft(Exception):
    """socketify's abort callback fired before the request body ended (socketify raises nothing itself:
    ``res.on_aborted`` only calls back and sets ``res.aborted``)."""


def receive_body(res, on_piece, consume_delay_ms: float) -> asyncio.Future:
    """The request body through the native ``res.on_data((res, chunk, is_end))`` callback, as the docs'
    "Uploading or Getting the Posting data" and ``res.get_data()`` / ``examples/helpers/form_data.py`` do it:
    a future from ``res.app.loop.create_future()``, resolved at ``is_end``; ``res.on_aborted`` settles it
    too (here with ``ClientLeft``, so the upload is recorded aborted, not answered).

    ``on_piece(chunk)`` runs inside the data callback, one call per chunk uWS hands over. A slow consumer
    (``consume_delay``) is the docs' ``res.pause()`` / ``res.resume()`` ("All Basic Stuff": "pause and
    resume the response"): pause in the callback, resume ``consume_delay`` ms later (``res.run_async`` of a
    coroutine, the docs' way to run one from a callback)."""
    done = res.app.loop.create_future()

    def aborted(res) -> None:
        if not done.done():
            done.set_exception(ClientLeft("socketify: on_aborted before the request body ended"))

    async def resume_later(res) -> None:
        await asyncio.sleep(consume_delay_ms / 1000)
        res.resume()

    def on_data(res, chunk, is_end) -> None:
        if done.done():
            return
        try:
            if chunk:
                on_piece(chunk)
        except Exception as exc:  # noqa: BLE001 - socketify would only log it: hand it to the handler
            done.set_exception(exc)
            return
        if is_end:
            done.set_result(None)
        elif chunk and consume_delay_ms:  # uWS's first call is an empty chunk: nothing consumed yet
            res.pause()
            res.run_async(resume_later(res))

    res.on_aborted(aborted)
    res.on_data(on_data)
    return done


def upload_plan(res, req) -> UploadPlan | None:
    try:
        return UploadPlan.from_query(query_of(req))
    except PlanError as exc:
        res.write_status(400).end(f"{exc}\n")
        return None


async def upload(res, req) -> None:
    """``POST|PUT /upload``: the body piece by piece from ``res.on_data``, answered once ``is_end`` came."""
    plan = upload_plan(res, req)
    if plan is None:
        return
    with UploadLog(plan) as log:
        if plan.reject:
            res.write_status(plan.reject).end(b"rejected\n")  # before on_data: no body is asked for
            return
        await receive_body(res, log.piece, plan.consume_delay_ms)
        answer = log.finish()
    body = json.dumps(answer).encode()
    res.cork(lambda r: r.write_status(200).write_header("Content-Type", "application/json").end(body))


async def echo(res, req) -> None:
    """``POST /echo``: status and headers at once, then ``res.write(echo_transform(chunk))`` from inside each
    ``on_data`` callback (corked), ``res.end(b"")`` at ``is_end``."""
    plan = upload_plan(res, req)
    if plan is None:
        return
    res.write_status(200)
    res.write_header("Content-Type", "application/octet-stream")
    res.write_header("Cache-Control", "no-store")
    with UploadLog(plan) as log:
        def on_piece(chunk: bytes) -> None:
            log.piece(chunk)
            data = echo_transform(chunk)
            res.cork(lambda r: r.write(data))

        await receive_body(res, on_piece, plan.consume_delay_ms)
        log.finish()
    res.cork(lambda r: r.end(b""))


def make_app() -> App:
    app = App()
    app.get("/stream", stream)
    app.get("/sse", sse)
    app.get("/probe", probe)
    app.get("/health", health)
    app.post("/upload", upload)
    app.put("/upload", upload)
    app.post("/echo", echo)
    for path, handler in (("/file/:name", download), ("/file-stream/:name", download_stream),
                          ("/object/:key", get_object)):
        app.get(path, handler)
        app.head(path, handler)
    app.on_start(Store.open)
    app.on_shutdown(Store.close)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="streamspec scenario on socketify.py (native API)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    app = make_app()
    app.listen(AppListenOptions(port=args.port, host=args.host),
               lambda config: print(f"socketify listening on http://{args.host}:{config.port}", flush=True))
    app.run()  # one process, socketify's own loop; SIGTERM's default action ends it


if __name__ == "__main__":
    main()
