"""The scenario contract in the *plain* ASGI streaming idiom: what users of uvicorn, hypercorn and granian
write when they stream from a bare ASGI app.

The idiom, and nothing more::

    await send({"type": "http.response.start", ...})
    async for chunk in producer:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})

No task watching ``receive()`` for ``http.disconnect``, no yield to the event loop between chunks, no
error handling: a producer error propagates to the server (before the head: the server's 500; after
it: whatever the server does with an app that raised mid-response). The one mapping kept is the
contract's HTTP error before the head (``streamspec.producer.HttpError``, ``raise_as=http``), answered
with its own status exactly as the reference does, because a raw ASGI app has no framework to do it.
The producer is closed when the handler ends (``contextlib.aclosing``), as every adapter does: that is
generator hygiene (cleanup runs when the handler stops, not when the garbage collector gets to the
generator), not disconnect detection.

Why it exists: the reference (``reference/app.py``) watches ``receive()`` and yields once per chunk
precisely because uvicorn, hypercorn and granian turn ``send`` after a disconnect into an immediate
no-op, so its verdicts say little about what a plain app sees on each server. ``--adapter=asgi-plain``
(``reference/plain_adapter.py``) shows each server's own behaviour for the idiom its users write; the
failures are recorded in ``reference/plain_expectations.toml`` (reports/findings/reference.md, F3...).
``/probe`` and ``/health`` are the reference's, and so are ``/upload`` and ``/echo``: reading a request
body from bare ASGI is the same ``receive()`` loop (``reference/uploads.py``) with nothing to leave out.
"""

from __future__ import annotations

import contextlib
from typing import AsyncIterator

from streamspec.producer import HttpError, open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import produce_text

from .app import make_app
from .asgi import send_whole, sse_plan_or_answer, stream_plan_or_answer

STREAM_HEADERS = [(b"content-type", b"application/octet-stream"), (b"cache-control", b"no-store")]


async def stream_body(send, status: int, headers, chunks: AsyncIterator[bytes] | None) -> None:
    """The plain idiom: the head, one body message per chunk, the final empty body."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    if chunks is not None:
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def stream(scope, receive, send) -> None:
    plan = await stream_plan_or_answer(scope, send)  # None: answered 400 already
    if plan is None:
        return
    try:
        producer = open_stream(plan)  # ProducerError propagates: the server answers 500
    except HttpError as exc:  # raise_as=http before the head: that error's status, as the reference does
        await send_whole(send, exc.status, f"{exc}\n".encode())
        return
    headers = list(STREAM_HEADERS)
    if plan.content_length:
        headers.append((b"content-length", str(plan.total).encode()))
    await stream_body(send, 200, headers, None if scope["method"] == "HEAD" else producer)


async def sse(scope, receive, send) -> None:
    plan = await sse_plan_or_answer(scope, send)  # None: answered already (400, or 204: nothing left)
    if plan is None:
        return
    head = [(k.encode(), v.encode()) for k, v in SSE_HEADERS]
    await stream_body(send, 200, head, None if scope["method"] == "HEAD" else _framed(plan))


async def _framed(plan) -> AsyncIterator[bytes]:
    """The shared ``produce_text`` (items framed by ``streamspec.sse.encode``: a raw ASGI app has no SSE
    API) as UTF-8 bytes."""
    async with contextlib.aclosing(produce_text(plan)) as blocks:
        async for block in blocks:
            yield block.encode("utf-8")


#: The ASGI entry point: the reference's routing, lifespan, ``/probe`` and ``/health``, with the plain
#: ``/stream`` and ``/sse`` handlers.
app = make_app(routes={"/stream": stream, "/sse": sse})
