"""The scenario contract served by Quart, written the way Quart's docs teach it.

``app = Quart(__name__)`` with its default configuration, kept on purpose: ``RESPONSE_TIMEOUT`` (60 s: a
streamed response still running after that is cut), ``BODY_TIMEOUT`` (60 s) and ``MAX_CONTENT_LENGTH``
(16 MiB: a larger request body is refused with 413) are the knobs the "Streaming responses" and "Request
body" how-tos name; a verdict they decide says so in the findings. ``RESPONSE_TIMEOUT`` bounds the sending
of every response (``asyncio.wait_for`` around it, ``quart/asgi.py:104-113``), downloads included: a
256 MiB file read by a client slower than about 4.4 MiB/s is cut at 60 s (the "Streaming responses"
how-to: "Quart by default will timeout long responses ... the recommendation is to set the timeout attribute
on a specific response to ``None``", which it shows for the SSE route only, and so does this app).

* ``/stream``: the "Streaming responses" how-to: an async generator returned with status and headers
  (``return async_generator(), 200, headers``), ``Content-Length`` among them when the plan declares one;
  ``raise_as=http`` is ``abort(503)`` (werkzeug's ``HTTPException``, as Quart's "Handling errors" page
  raises them). No disconnect watcher, no error handling, no ``aclosing``: Quart iterates the generator
  after the view returned.
* ``/sse``: the "Server Sent Events" how-to: ``await make_response(send_events(), {"Content-Type":
  "text/event-stream", "Cache-Control": "no-cache", "Transfer-Encoding": "chunked"})`` and
  ``response.timeout = None``. The how-to's own ``ServerSentEvent`` dataclass is example code, not an API
  (it writes ``data:`` once, so a multi-line payload would break the stream): the shared
  ``streamspec.sse.encode`` frames each item instead. Its ``Accept`` check (``abort(400)`` unless the client
  accepts ``text/event-stream``) is left out: the suite's client need not send that header.
* ``/file/<name>``: ``send_from_directory(root, name, as_attachment=True)`` (``send_file``'s docstring:
  "The filename (path) to send, remember to use ``safe_join``"; ``send_from_directory`` does, and answers
  ``conditional=True`` requests: ranges and validators). ``/file-stream/<name>``: a generator reading the
  file with aiofiles, returned with the ``Content-Disposition`` and ``Content-Length`` a user writes.
* ``/object/<name>``: one aiobotocore client opened in ``@app.before_serving`` and closed in
  ``@app.after_serving`` ("Startup and Shutdown"), the body read under ``async with`` in the generator.
* ``/upload``: the "Consuming the request body" how-to's "Advanced usage": ``async with
  timeout(app.config['BODY_TIMEOUT']): async for data in request.body: ...`` ("Usage of body will not
  [timeout] and it is up to you to wrap usage in a timeout"). The how-to imports ``timeout`` from
  async-timeout, which Quart does not install; ``asyncio.timeout`` is the standard library's form of the same
  context manager (Python 3.11). ``/echo``: a generator over ``request.body`` under the same timeout,
  returned as the response (Quart serves the response while the body still arrives: a separate task feeds
  ``request.body`` from ``receive()``, ``quart/asgi.py:48-70``).
"""

from __future__ import annotations

import asyncio
import contextlib
from email.utils import formatdate
from pathlib import Path

import aiofiles
from aiobotocore.session import get_session
from botocore.exceptions import ClientError
from quart import Quart, abort, make_response, request, send_from_directory
from werkzeug.exceptions import HTTPException

from streamspec.contract import PlanError, StreamPlan
from streamspec.files import CHUNK_SIZE, bucket, served_root, store_config
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import SsePlan, encode, produce_events
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

FILES_ROOT = served_root() or Path("files")

app = Quart(__name__)


def first_values() -> dict[str, str]:
    """First value of each query parameter, as the reference reads them."""
    return {key: values[0] for key, values in request.args.lists() if values}


def http_error(status: int, message: str) -> HTTPException:
    """``raise_as=http``: what ``abort(503)`` raises."""
    try:
        abort(status, description=message)
    except HTTPException as exc:
        return exc


@app.get("/stream")
async def stream():
    try:
        plan = StreamPlan.from_query(first_values())
    except PlanError as exc:
        return str(exc), 400
    headers = {"Content-Type": "application/octet-stream", "Cache-Control": "no-store"}
    if plan.content_length:
        headers["Content-Length"] = str(plan.total)
    return open_stream(plan, http_error=http_error), 200, headers


@app.get("/sse")
async def sse():
    try:
        plan = SsePlan.from_request(first_values(), request.headers.get("Last-Event-ID"))
    except PlanError as exc:
        return str(exc), 400
    if plan.exhausted:
        return "", 204  # nothing left: a browser stops reconnecting

    async def send_events():
        async for item in produce_events(plan):
            yield encode(item).encode("utf-8")

    response = await make_response(send_events(), {
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache", "Transfer-Encoding": "chunked",
        "X-Accel-Buffering": "no"})
    response.timeout = None
    return response


@app.get("/file/<name>")
async def download_file(name: str):
    return await send_from_directory(FILES_ROOT, name, as_attachment=True)


@app.get("/file-stream/<name>")
async def stream_file(name: str):
    path = FILES_ROOT / name
    if not path.is_file():
        return "File not found\n", 404

    async def file_sender():
        async with aiofiles.open(path, "rb") as f:
            while chunk := await f.read(CHUNK_SIZE):
                yield chunk

    return file_sender(), 200, {"Content-Type": "application/octet-stream",
                                "Content-Disposition": f'attachment; filename="{name}"',
                                "Content-Length": str(path.stat().st_size)}


class Store:
    """The app's one S3 client, opened before serving and closed after."""

    client = None
    stack = contextlib.AsyncExitStack()


@app.before_serving
async def open_store():
    config = store_config()
    if config is not None:
        Store.client = await Store.stack.enter_async_context(get_session().create_client("s3", **config))


@app.after_serving
async def close_store():
    await Store.stack.aclose()


@app.get("/object/<key>")
async def download_object(key: str):
    params = {"Bucket": bucket(), "Key": key}
    if "Range" in request.headers:
        params["Range"] = request.headers["Range"]
    try:
        obj = await Store.client.get_object(**params)
    except ClientError as exc:
        error = exc.response["Error"]
        if error.get("Code") == "InvalidRange":
            return "Range not satisfiable\n", 416, {"Content-Range": f"bytes */{error['ActualObjectSize']}"}
        if exc.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
            return "Object not found\n", 404
        raise

    async def object_sender():
        async with obj["Body"] as body:
            async for chunk in body.iter_chunks(CHUNK_SIZE):
                yield chunk

    headers = {"Content-Type": obj["ContentType"], "Content-Length": str(obj["ContentLength"]),
               "ETag": obj["ETag"], "Last-Modified": formatdate(obj["LastModified"].timestamp(), usegmt=True)}
    if "ContentRange" in obj:
        headers["Content-Range"] = obj["ContentRange"]
    return object_sender(), obj["ResponseMetadata"]["HTTPStatusCode"], headers


@app.route("/upload", methods=["POST", "PUT"])
async def upload():
    try:
        plan = UploadPlan.from_query(first_values())
    except PlanError as exc:
        return f"{exc}\n", 400
    with UploadLog(plan) as log:
        if plan.reject:
            return "rejected\n", plan.reject  # the body is never asked for
        async with asyncio.timeout(app.config["BODY_TIMEOUT"]):
            async for data in request.body:
                log.piece(data)
                if plan.consume_delay_ms:
                    await asyncio.sleep(plan.consume_delay_ms / 1000)
        answer = log.finish()
    return answer


@app.post("/echo")
async def echo():
    try:
        plan = UploadPlan.from_query(first_values())
    except PlanError as exc:
        return f"{exc}\n", 400
    body = request.body

    async def echoed():
        with UploadLog(plan) as log:
            async with asyncio.timeout(app.config["BODY_TIMEOUT"]):
                async for data in body:
                    log.piece(data)
                    if data:
                        yield echo_transform(data)
                    if plan.consume_delay_ms:
                        await asyncio.sleep(plan.consume_delay_ms / 1000)
            log.finish()

    return echoed(), 200, {"Content-Type": "application/octet-stream", "Cache-Control": "no-store"}


@app.get("/probe")
async def probe():
    return PROBE.snapshot(request.args.get("id")), 200, {"Cache-Control": "no-store"}


@app.get("/health")
async def health():
    return "ok\n"
