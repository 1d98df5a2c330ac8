"""The reference ASGI application: the scenario contract with the correct streaming semantics.

Routes: ``/stream`` (GET, HEAD), ``/sse``, ``/probe``, ``/health``, the downloads ``/file/<name>``,
``/file-stream/<name>`` (``reference/files.py``) and ``/object/<key>`` (``reference/objects.py``), and
the uploads ``/upload`` (POST, PUT) and ``/echo`` (POST) (``reference/uploads.py``). What "correct"
means here for the streams, each point checked by the conformance suite:

* the response starts (headers go out) before the producer makes its first chunk;
* every chunk is handed to the server as its own ``http.response.body`` message, at once, and the
  next chunk is not asked for until ``send`` returns, so the server's flow control (``send`` awaits the
  transport draining) reaches the producer: backpressure;
* ``receive()`` is watched for ``http.disconnect`` *while* streaming, in a task of its own, so a client
  that leaves is noticed even when the producer is idle between chunks; the producer is then cancelled
  and closed, which runs its ``finally``. The pump yields to the event loop after every chunk, because
  ASGI servers turn ``send`` after a disconnect into an immediate no-op: without that yield a producer
  that never waits would run to its end before the watcher is scheduled;
* an exception after the response started is re-raised, which makes the ASGI server abort the
  connection: the client sees a truncated body (no final chunk), never a clean end;
* an exception before the response started propagates too: the ASGI server answers a complete 500;
  the contract's HTTP error (``raise_as=http``) is answered with its own status (503), complete.

``StreamHandler`` is split into small steps (start, write, finish, deliver) so that each broken variant
in ``tests/variants/`` overrides exactly one step and shows which case catches that mistake.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

from streamspec.contract import StreamPlan
from streamspec.probe import PROBE
from streamspec.producer import HttpError, open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SseItem, encode, produce_events

from .files import FileRoutes
from .objects import ObjectRoute, close_client
from .uploads import UploadRoutes
from .asgi import query_of, send_json, send_whole, sse_plan_or_answer, stream_plan_or_answer, wait_for_disconnect


class StreamHandler:
    """``/stream`` and ``/sse``: parse the plan, start the response, deliver the producer's chunks."""

    # -- the steps -------------------------------------------------------------------------------
    def headers(self, plan: StreamPlan) -> list[tuple[bytes, bytes]]:
        headers = [(b"content-type", b"application/octet-stream"), (b"cache-control", b"no-store")]
        if plan.content_length:
            headers.append((b"content-length", str(plan.total).encode()))
        return headers

    async def start(self, send, status: int, headers) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})

    async def write(self, send, data: bytes) -> None:
        """One chunk, one message; ``await send`` is where backpressure reaches the producer."""
        await send({"type": "http.response.body", "body": data, "more_body": True})

    async def finish(self, send) -> None:
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def status_of(self, error: HttpError) -> int:
        """The status answering an HTTP error raised before the head: the error's own."""
        return error.status

    async def pump(self, producer: AsyncIterator[bytes], send) -> None:
        try:
            async for data in producer:
                await self.write(send, data)
                # After a disconnect, uvicorn, hypercorn and granian complete ``send`` at once without
                # suspending; a producer that never awaits anything else would then race to its end
                # before the disconnect watcher runs. Yield once per chunk so the watcher can stop it.
                await asyncio.sleep(0)
            await self.finish(send)
        finally:
            await producer.aclose()  # a no-op when the generator already finished

    async def deliver(self, producer: AsyncIterator[bytes], send, receive) -> None:
        """Pump while a second task watches for the client leaving; stop at whichever comes first."""
        pumping = asyncio.ensure_future(self.pump(producer, send))
        watching = asyncio.ensure_future(wait_for_disconnect(receive))
        try:
            await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watching.cancel()
            if not pumping.done():
                pumping.cancel()  # the client left: cancel the producer, its cleanup runs now
            with contextlib.suppress(asyncio.CancelledError):
                await watching
            with contextlib.suppress(asyncio.CancelledError):
                await pumping  # re-raises a producer error: the server then aborts the connection

    # -- the routes ------------------------------------------------------------------------------
    async def stream(self, scope, receive, send) -> None:
        plan = await stream_plan_or_answer(scope, send)  # None: answered 400 already
        if plan is None:
            return
        try:
            producer = open_stream(plan)  # ProducerError here propagates: the server answers 500
        except HttpError as exc:  # raise_as=http before the head: that error's status, complete
            await send_whole(send, self.status_of(exc), f"{exc}\n".encode())
            return
        await self.start(send, 200, self.headers(plan))
        if scope["method"] == "HEAD":
            await self.finish(send)
            return
        await self.deliver(producer, send, receive)

    async def sse(self, scope, receive, send) -> None:
        plan = await sse_plan_or_answer(scope, send)  # None: answered already (400, or 204: nothing left)
        if plan is None:
            return
        await self.start(send, 200, [(k.encode(), v.encode()) for k, v in SSE_HEADERS])
        if scope["method"] == "HEAD":
            await self.finish(send)
            return
        await self.deliver(_framed(produce_events(plan), self.frame), send, receive)

    def frame(self, item: SseItem) -> bytes:
        """One logical SSE item on the wire. The reference is its own SSE "framework": it frames with
        ``streamspec.sse.encode`` (a variant overrides this step to frame wrongly)."""
        return encode(item).encode("utf-8")


async def _framed(items: AsyncIterator[SseItem], frame) -> AsyncIterator[bytes]:
    try:
        async for item in items:
            yield frame(item)
    finally:
        await items.aclose()


async def probe(scope, receive, send) -> None:
    await send_json(send, 200, PROBE.snapshot(query_of(scope).get("id")))


async def health(scope, receive, send) -> None:
    await send_whole(send, 200, b"ok\n")


#: routes that serve every path under a prefix (``/file/<name>``...), matched after the exact table
PREFIXES = ("/file/", "/file-stream/", "/object/")


def make_app(handler: StreamHandler | None = None, routes: dict | None = None, files: FileRoutes | None = None,
             objects: ObjectRoute | None = None, uploads: UploadRoutes | None = None):
    """The ASGI app; ``handler``, ``routes``, ``files``, ``objects`` and ``uploads`` let a variant swap one
    piece."""
    handler = handler or StreamHandler()
    # Downloads get a handler of their own: a variant that breaks /stream's handler breaks /stream only,
    # and a files variant breaks the files routes only (each variant is caught by exactly its cases).
    files = files or FileRoutes(StreamHandler())
    objects = objects or ObjectRoute(StreamHandler())
    uploads = uploads or UploadRoutes()
    #: routes that take a request body, with the methods they allow (every other route: GET, HEAD)
    methods = {"/upload": ("POST", "PUT"), "/echo": ("POST",)}
    table = {"/upload": uploads.upload, "/echo": uploads.echo,
             "/stream": handler.stream, "/sse": handler.sse, "/probe": probe, "/health": health,
             "/file/": files.native, "/file-stream/": files.streamed, "/object/": objects, **(routes or {})}

    async def app(scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await close_client()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        path = scope["path"]
        route = table.get(path) or next((table[p] for p in PREFIXES if path.startswith(p) and path != p), None)
        if route is None:
            await send_whole(send, 404, b"not found\n")
        elif scope["method"] not in methods.get(path, ("GET", "HEAD")):
            allow = ", ".join(methods.get(path, ("GET", "HEAD"))).encode()
            await send_whole(send, 405, b"method not allowed\n", headers=[(b"allow", allow)])
        else:
            await route(scope, receive, send)

    return app


#: The ASGI entry point of the reference server.
app = make_app()
