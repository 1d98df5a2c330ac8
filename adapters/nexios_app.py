"""The scenario contract served by Nexios, written the way Nexios's streaming guide teaches it.

Every streaming route ends in ``return response.stream(generator, content_type=..., headers=...)``
inside an ``async def handler(request, response)`` on a plain ``NexiosApp()`` (defaults kept, so the
verdict shows Nexios as its users get it). The producers are the shared ones (``streamspec.producer``,
``streamspec.sse``): only the way Nexios carries chunks to the wire differs from the reference.

What is deliberately *not* here, because Nexios is meant to do it: no catching of producer errors
(``ProducerError`` before the response goes to Nexios's ``ServerErrorMiddleware``; a mid-stream error
propagates out of ``StreamingResponse``), no disconnect watcher (``StreamingResponse`` has its own),
no HEAD route (a GET route answers HEAD too). ``raise_as=http`` raises Nexios's ``HTTPException(503)``.
Nexios has no SSE API (its guide frames ``data:`` lines by hand in the generator): ``/sse`` yields each
logical event framed by the shared ``streamspec.sse.encode``, keep-alives as comment lines, as the guide's
``":keepalive\n\n"`` does.

Files and objects (``streamspec.files``), each route as Nexios's docs write a download view:

* ``/file/{filename}``: Nexios's native ``FileResponse`` through ``response.file(path,
  content_disposition_type="attachment")``, the "File Responses" section of the "Sending Responses" guide
  (that section's words: "By setting ``content_disposition_type="attachment"``, you prompt the browser to
  download the file"). The path and the 404 are the "File Upload and Download" API example's:
  ``filepath = UPLOAD_DIR / filename``, ``if not filepath.exists(): return res.json({"error": "File not
  found"}, status_code=404)``. ``FileResponse`` names the attachment after the path (``filename`` defaults
  to ``path.name``), answers ``Range`` itself and takes ETag and Last-Modified from ``os.stat``. Path
  safety: none. No Nexios page says anything about a user-supplied file name (no containment check, no
  ``safe_join``), so none is added: the ``{filename}`` route parameter (one segment, the decoded path) is
  all that stands between a name and the disk, as in the docs.
* ``/file-stream/{filename}``: the streaming guide's "Implementing File Downloads with Streaming" verbatim
  but for the root and the chunk size (``CHUNK_SIZE``, 4096, instead of its 8 KiB): ``Path(root) /
  filename``, ``if not file_path.is_file()`` -> 404 JSON, an ``aiofiles`` generator read in chunks, and
  ``response.stream(..., content_type="application/octet-stream", headers={"Content-Disposition":
  f"attachment; filename={filename}", "Content-Length": str(file_path.stat().st_size)})``. Its flaws are
  kept: the name goes into the header unquoted and unencoded, and the size is taken before the file is
  opened.
* ``/object/{key}``: one aiobotocore client for the app, opened in ``@app.on_startup`` and closed in
  ``@app.on_shutdown`` (Nexios's "Startup And Shutdowns" guide: "setup the database connection"), so the
  handler can answer with the store's own status and headers: ``get_object(Range=...)`` in the handler
  (a ``ClientError`` 404 -> 404, ``InvalidRange`` -> 416 with ``Content-Range: bytes */<ActualObjectSize>``),
  then ``response.stream()`` of a generator that reads ``iter_chunks(CHUNK_SIZE)`` inside ``async with
  obj["Body"] as stream`` (aiobotocore's README: "this will ensure the connection is correctly
  re-used/closed"). A client that leaves is noticed the way Nexios's guide teaches (its SSE example's
  ``except asyncio.CancelledError``): ``StreamingResponse`` cancels the stream on ``http.disconnect``, and
  a cancellation that lands in the generator's own store read unwinds it through that ``async with``,
  which closes the body. One that lands in Nexios's ``send`` (always, for a client that stopped reading)
  leaves the generator suspended, and the body waits for the garbage collector (nexios.md N5): no code in
  a generator can change that. The status, Content-Length, Content-Range, ETag, Last-Modified and
  Content-Type are the store's, passed to ``response.stream(status_code=..., content_type=...,
  headers=...)``. The client keeps aiobotocore's defaults (``max_pool_connections=10``), as the docs of
  neither library say otherwise.

A GET route answers HEAD too (Nexios adds HEAD to every GET route), so HEAD runs the same handlers: the
native ``FileResponse`` reads and sends the file and the server drops the body, ``/object`` asks the store
for the whole object. The ``/file`` route keeps the API example's ``exists()`` (the streaming guide's
``is_file()`` is in ``/file-stream``): ``/file/..`` exists, and ``FileResponse`` answers a directory with
a ``RuntimeError`` (a 500).

Uploads (``streamspec.uploads``): ``POST|PUT /upload`` is the request guide's "Handling Streaming Request
Data", ``async for chunk in req.stream()`` (its ``ClientDisconnect`` propagates through the ``UploadLog``);
``POST /echo`` returns ``response.stream()`` of a generator over ``req.stream()``. Under every server here
(ASGI spec_version < 2.4) ``StreamingResponse`` runs ``listen_for_disconnect`` beside that generator, which
discards request body messages (nexios_upload_repro).

``python -m adapters.nexios_app --host H --port P [--server uvicorn|hypercorn|granian]`` serves it with
one worker until SIGTERM. uvicorn runs with ``http="httptools"``, what ``uvicorn[standard]`` picks in
production (the reference runs uvicorn's h11 protocol instead).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from email.utils import formatdate
from pathlib import Path

import aiofiles
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from nexios import NexiosApp
from nexios.exceptions import HTTPException

from streamspec import asgi_servers
from streamspec.contract import PlanError, StreamPlan
from streamspec.files import CHUNK_SIZE, bucket, served_root, store_config
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SsePlan, produce_text
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

UVICORN_HTTP = "httptools"  # recorded: uvicorn's protocol implementation decides HTTP/1.0 framing

app = NexiosApp()


def _query(request) -> dict[str, str]:
    """First value of each query parameter, as the reference reads them."""
    out: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, value)
    return out


@app.get("/stream")
async def stream(request, response):
    try:
        plan = StreamPlan.from_query(_query(request))
    except PlanError as exc:
        return response.text(str(exc), status_code=400)
    # ProducerError propagates: Nexios's error middleware answers 500; HTTPException its own status
    producer = open_stream(plan, http_error=http_error)
    headers = {"Cache-Control": "no-store"}
    if plan.content_length:
        headers["Content-Length"] = str(plan.total)
    return response.stream(producer, content_type="application/octet-stream", headers=headers)


def http_error(status: int, message: str) -> HTTPException:
    """The contract's framework HTTP error (``raise_as=http``): Nexios's ``HTTPException``."""
    return HTTPException(status_code=status, detail=message)


@app.get("/sse")
async def sse(request, response):
    try:
        plan = SsePlan.from_request(_query(request), request.headers.get("last-event-id"))
    except PlanError as exc:
        return response.text(str(exc), status_code=400)
    if plan.exhausted:
        return response.empty(status_code=204)  # nothing left: a browser stops reconnecting

    async def event_stream():
        # aclosing: when Nexios stops iterating, the shared producer is closed too (its cleanup runs)
        async with contextlib.aclosing(produce_text(plan)) as blocks:
            async for block in blocks:
                yield block.encode("utf-8")

    headers = {name: value for name, value in SSE_HEADERS if name != "content-type"}
    return response.stream(event_stream(), content_type="text/event-stream", headers=headers)


#: the folder the download routes serve (the docs' ``UPLOAD_DIR`` / ``Path("uploads")``)
FILES_ROOT = served_root() or Path("uploads")


@app.get("/file/{filename}")
async def download_file(request, response, filename: str):
    file_path = FILES_ROOT / filename
    if not file_path.exists():
        return response.json({"error": "File not found"}, status_code=404)
    return response.file(str(file_path), content_disposition_type="attachment")


@app.get("/file-stream/{filename}")
async def stream_file(request, response, filename: str):
    file_path = FILES_ROOT / filename

    if not file_path.is_file():
        return response.json({"error": "File not found"}, status_code=404)

    async def file_sender():
        async with aiofiles.open(file_path, "rb") as f:
            while chunk := await f.read(CHUNK_SIZE):
                yield chunk

    return response.stream(
        file_sender(),
        content_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename={filename}",
            "Content-Length": str(file_path.stat().st_size),
        },
    )


class Store:
    """The app's one S3 client (aiobotocore), opened at startup and closed at shutdown."""

    client = None
    _stack = contextlib.AsyncExitStack()


@app.on_startup
async def open_store():
    config = store_config()
    if config is not None:
        Store.client = await Store._stack.enter_async_context(get_session().create_client("s3", **config))


@app.on_shutdown
async def close_store():
    await Store._stack.aclose()


@app.get("/object/{key}")
async def download_object(request, response, key: str):
    params = {"Bucket": bucket(), "Key": key}
    if "range" in request.headers:
        params["Range"] = request.headers["range"]
    try:
        obj = await Store.client.get_object(**params)
    except ClientError as exc:
        error = exc.response["Error"]
        if error.get("Code") == "InvalidRange":
            return response.json({"error": "Range not satisfiable"}, status_code=416,
                                 headers={"Content-Range": f"bytes */{error['ActualObjectSize']}"})
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return response.json({"error": "Object not found"}, status_code=404)
        raise

    async def object_sender():
        # closes the body (its pooled connection) at the end of the object, on an error, and when the client
        # leaves while this generator waits on the store (Nexios's cancellation unwinds through here); a
        # cancellation that lands in Nexios's send leaves it suspended for the garbage collector (nexios.md N5)
        async with obj["Body"] as stream:
            async for chunk in stream.iter_chunks(CHUNK_SIZE):
                yield chunk

    headers = {"Content-Length": str(obj["ContentLength"]), "ETag": obj["ETag"],
               "Last-Modified": formatdate(obj["LastModified"].timestamp(), usegmt=True)}
    if "ContentRange" in obj:
        headers["Content-Range"] = obj["ContentRange"]
    return response.stream(object_sender(), status_code=obj["ResponseMetadata"]["HTTPStatusCode"],
                           content_type=obj["ContentType"], headers=headers)


def _upload_plan(request) -> UploadPlan:
    return UploadPlan.from_query(_query(request))


@app.route("/upload", methods=["POST", "PUT"])  # the routing guide's multi-method route
async def upload(request, response):
    """The request-inputs guide's "Handling Streaming Request Data": ``async for chunk in req.stream()``. Its
    ``ClientDisconnect`` (the client left mid-body) propagates out of the ``with`` (recorded aborted)."""
    try:
        plan = _upload_plan(request)
    except PlanError as exc:
        return response.text(f"{exc}\n", status_code=400)
    with UploadLog(plan) as log:
        if plan.reject:
            return response.text("rejected\n", status_code=plan.reject)  # the body is never asked for
        async for chunk in request.stream():
            log.piece(chunk)
            if plan.consume_delay_ms:
                await asyncio.sleep(plan.consume_delay_ms / 1000)
        answer = log.finish()
    return response.json(answer)


@app.post("/echo")
async def echo(request, response):
    """``response.stream()`` (the streaming guide) of a generator that reads ``req.stream()`` (the request
    guide) and yields each transformed piece as it arrives."""
    try:
        plan = _upload_plan(request)
    except PlanError as exc:
        return response.text(f"{exc}\n", status_code=400)

    async def echoed():
        with UploadLog(plan) as log:
            async for chunk in request.stream():
                log.piece(chunk)
                if chunk:
                    yield echo_transform(chunk)
                if plan.consume_delay_ms:
                    await asyncio.sleep(plan.consume_delay_ms / 1000)
            log.finish()

    return response.stream(echoed(), content_type="application/octet-stream", headers={"Cache-Control": "no-store"})


@app.get("/probe")
async def probe(request, response):
    return response.json(PROBE.snapshot(request.query_params.get("id")),
                         headers={"Cache-Control": "no-store"})


@app.get("/health")
async def health(request, response):
    return response.text("ok\n")


def main(argv: list[str] | None = None) -> int:
    """Serve ``app`` with the shared ASGI runner (the same one the reference uses), uvicorn on httptools."""
    args = list(sys.argv[1:] if argv is None else argv)
    return asgi_servers.main(["--app", "streamspec.adapters.nexios_app:app", "--uvicorn-http", UVICORN_HTTP, *args],
                             prog="python -m adapters.nexios_app")


if __name__ == "__main__":
    sys.exit(main())
