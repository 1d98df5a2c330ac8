"""The reference ASGI application: the scenario contract with the correct streaming semantics.

Routes: ``/stream`` (GET, HEAD), ``/probe`` and ``/health``. What "correct" means here, each point
checked by the conformance suite:

* the response starts (headers go out) before the producer makes its first chunk;
* every chunk is handed to the server as its own ``http.response.body`` message, at once, and the
  next chunk is not asked for until ``send`` returns, so the server's flow control (``send`` awaits the
  transport draining) reaches the producer: backpressure;
* ``receive()`` is watched for ``http.disconnect`` *while* streaming, in a task of its own, so a client
  that leaves is noticed even when the producer is idle between chunks; the producer is then cancelled
  and closed, which runs its ``finally``;
* an exception after the response started is re-raised, which makes the ASGI server abort the
  connection: the client sees a truncated body (no final chunk), never a clean end;
* an exception before the response started becomes a complete 500.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import AsyncIterator

from streamspec.contract import PlanError, StreamPlan
from streamspec.probe import PROBE
from streamspec.producer import ProducerError, open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SsePlan, produce_events

from .asgi import query_of, send_json, send_whole, wait_for_disconnect


def stream_headers(plan: StreamPlan) -> list[tuple[bytes, bytes]]:
    headers = [(b"content-type", b"application/octet-stream"), (b"cache-control", b"no-store")]
    if plan.content_length:
        headers.append((b"content-length", str(plan.total).encode()))
    return headers


async def pump(producer: AsyncIterator[bytes], send) -> None:
    """Send each chunk as its own message; ``await send`` is where backpressure reaches the producer."""
    try:
        async for data in producer:
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        await producer.aclose()  # a no-op when the generator already finished


async def stream(scope, receive, send) -> None:
    try:
        plan = StreamPlan.from_query(query_of(scope))
    except PlanError as exc:
        await send_whole(send, 400, str(exc).encode())
        return
    try:
        producer = open_stream(plan)
    except ProducerError as exc:
        await send_whole(send, 500, f"{exc}\n".encode())
        return

    await send({"type": "http.response.start", "status": 200, "headers": stream_headers(plan)})
    if scope["method"] == "HEAD":
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return

    await stream_until_disconnect(producer, send, receive)


async def stream_until_disconnect(producer: AsyncIterator[bytes], send, receive) -> None:
    """Pump the producer while a second task watches for the client leaving; stop at whichever first."""
    pumping = asyncio.ensure_future(pump(producer, send))
    watching = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        # Whichever finished first, the other must not outlive the request.
        watching.cancel()
        if not pumping.done():
            pumping.cancel()  # the client left: cancel the producer, its cleanup runs now
        with contextlib.suppress(asyncio.CancelledError):
            await watching
        with contextlib.suppress(asyncio.CancelledError):
            await pumping  # re-raises a producer error: the server then aborts the connection


async def _encoded(blocks: AsyncIterator[str]) -> AsyncIterator[bytes]:
    try:
        async for block in blocks:
            yield block.encode("utf-8")
    finally:
        await blocks.aclose()


async def sse(scope, receive, send) -> None:
    """Server-Sent Events: the same pump and disconnect watch as /stream, one message per block."""
    headers = dict((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
    try:
        plan = SsePlan.from_request(query_of(scope), headers.get("last-event-id"))
    except PlanError as exc:
        await send_whole(send, 400, str(exc).encode())
        return
    if plan.exhausted:
        await send_whole(send, 204, b"")
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(k.encode(), v.encode()) for k, v in SSE_HEADERS]})
    if scope["method"] == "HEAD":
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    await stream_until_disconnect(_encoded(produce_events(plan)), send, receive)


async def probe(scope, receive, send) -> None:
    await send_json(send, 200, PROBE.snapshot(query_of(scope).get("id")))


async def health(scope, receive, send) -> None:
    await send_whole(send, 200, b"ok\n")


ROUTES = {"/stream": stream, "/sse": sse, "/probe": probe, "/health": health}


async def app(scope, receive, send) -> None:
    """The ASGI entry point."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    handler = ROUTES.get(scope["path"])
    if handler is None:
        await send_whole(send, 404, b"not found\n")
        return
    if scope["method"] not in ("GET", "HEAD"):
        await send_whole(send, 405, b"method not allowed\n", headers=[(b"allow", b"GET, HEAD")])
        return
    await handler(scope, receive, send)
