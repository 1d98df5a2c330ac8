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
"""

from __future__ import annotations

import argparse
import contextlib
import sys

from aiohttp import web
from aiohttp_sse import sse_response

from streamspec.contract import PlanError, StreamPlan
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SseEvent, SseKeepAlive, SsePlan, SseRetry, produce_events

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


async def probe(request: web.Request) -> web.Response:
    return web.json_response(PROBE.snapshot(request.query.get("id")))


async def health(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/stream", stream)
    app.router.add_get("/sse", sse)
    app.router.add_get("/probe", probe)
    app.router.add_get("/health", health)
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
