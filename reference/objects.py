"""The reference's ``/object/<key>``: an object of the S3-compatible store streamed through aiobotocore.

Correct semantics, each checked by ``conformance/test_objects.py``:

* one aiobotocore client for the process (a client per request would load botocore's service model and
  open a new connection pool every time); created by the first object request, closed at lifespan
  shutdown;
* a syntactically valid single ``Range`` is passed to ``get_object``; the store's status (200/206),
  ``Content-Length``, ``Content-Range``, ``ETag``, ``Last-Modified`` are passed back. Anything the store
  does not do (several ranges) is not asked of it: the full object, 200;
* the store's 404 is a 404, its 416 (``InvalidRange``) a 416 with ``Content-Range: bytes */<length>``;
* the body is read in pieces as the client takes them (the same pump as ``/stream``: backpressure and
  disconnect watching) and *closed* however the response ends: a client that leaves mid-object releases
  the store connection at once, not when the pool or the garbage collector gets to it;
* a store that fails mid-object (connection cut, short body) makes the read raise: the response is then
  truncated visibly (the server aborts the connection), never ended cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import unquote

from streamspec.files import bucket, store_config

from . import ranges as R
from .asgi import send_whole

READ_SIZE = 64 * 1024
_CLIENT: dict = {}


_LOCK = asyncio.Lock()  # two first object requests at once make one client


async def client():
    """The process's S3 client, created by the first object request (under a lock: two first requests at
    once make one client). Not at startup: importing botocore and loading its service model costs about
    0.7 s of CPU, which every server start paid, although most runs of the reference (a part without
    objects cases, a broken variant) never ask for an object; the first object request pays it instead,
    well within the suite's bound for a store's answer."""
    if "client" not in _CLIENT:
        async with _LOCK:
            if "client" not in _CLIENT:
                from aiobotocore.session import get_session

                stack = contextlib.AsyncExitStack()
                _CLIENT["client"] = await stack.enter_async_context(
                    get_session().create_client("s3", **store_config()))
                _CLIENT["stack"] = stack
    return _CLIENT["client"]


async def close_client() -> None:
    stack = _CLIENT.pop("stack", None)
    _CLIENT.pop("client", None)
    if stack is not None:
        await stack.aclose()


def _store_range(value: str | None) -> str | None:
    """The Range to ask the store for: a valid single byte range as sent, else none (the full object)."""
    if value is None:
        return None
    parsed = R.parse_ranges(value, 1 << 62)  # syntax only: the store knows the length
    return value.strip() if parsed is not None and len(value.split(",")) == 1 else None


async def object_body(stream, declared: int):
    """The store's body in pieces; closed (connection released) however this ends."""
    got = 0
    try:
        while True:
            data = await stream.read(READ_SIZE)
            if not data:
                break
            got += len(data)
            yield data
        if got != declared:
            raise OSError(f"the store sent {got} of {declared} bytes")
    finally:
        stream.close()


class ObjectRoute:
    def __init__(self, handler) -> None:
        self.handler = handler

    async def __call__(self, scope, receive, send) -> None:
        from botocore.exceptions import ClientError

        key = unquote(scope["path"][len("/object/"):])
        if store_config() is None or not key:
            await send_whole(send, 404, b"not found\n")
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        s3 = await client()
        wanted = _store_range(headers.get("range"))
        try:
            if scope["method"] == "HEAD":
                answer = await s3.head_object(Bucket=bucket(), Key=key)
            else:
                answer = await s3.get_object(Bucket=bucket(), Key=key, **({"Range": wanted} if wanted else {}))
        except ClientError as exc:
            await self._store_error(send, s3, key, exc)
            return
        meta = answer["ResponseMetadata"]
        head = [(b"content-type", answer.get("ContentType", "application/octet-stream").encode("latin-1")),
                (b"content-length", str(answer["ContentLength"]).encode()),
                (b"accept-ranges", b"bytes")]
        for field, name in (("ContentRange", b"content-range"), ("ETag", b"etag")):
            if answer.get(field):
                head.append((name, answer[field].encode("latin-1")))
        if meta["HTTPHeaders"].get("last-modified"):
            head.append((b"last-modified", meta["HTTPHeaders"]["last-modified"].encode("latin-1")))
        status = meta["HTTPStatusCode"] if scope["method"] != "HEAD" else 200
        await self.handler.start(send, status, head)
        if scope["method"] == "HEAD":
            await self.handler.finish(send)
            return
        await self.handler.deliver(object_body(answer["Body"], answer["ContentLength"]), send, receive)

    async def _store_error(self, send, s3, key: str, exc) -> None:
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 502)
        if code == "InvalidRange" or status == 416:
            size = (await s3.head_object(Bucket=bucket(), Key=key))["ContentLength"]
            await send_whole(send, 416, b"range not satisfiable\n",
                             headers=[(b"content-range", f"bytes */{size}".encode())])
        elif status in (404,) or code in ("NoSuchKey", "404"):
            await send_whole(send, 404, b"not found\n")
        else:
            await send_whole(send, 502, f"store error {code}\n".encode())
