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

``/sse`` uses aiohttp-sse's ``sse_response`` (what aiohttp users reach for) for the response object,
its headers and connection handling, and writes the pre-framed blocks of the shared
``produce_events`` with that response's ``write()``. We do not re-frame through ``sse.send()``: the
shared producer is the single source of the events' bytes and of the probe diary (start, event,
keepalive, cleanup), so re-deriving ids and payloads here would duplicate it and could drift. The
library's defaults stay: its 15 s ``: ping`` comment and its 405 for HEAD (findings N1, N2).
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
from streamspec.sse import SsePlan, produce_events

STREAM_HEADERS = {"Content-Type": "application/octet-stream", "Cache-Control": "no-store"}


async def stream(request: web.Request) -> web.StreamResponse:
    """``GET``/``HEAD /stream``: one ``resp.write()`` per produced chunk."""
    try:
        plan = StreamPlan.from_query(request.query)
    except PlanError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    producer = open_stream(plan)  # ProducerError propagates: aiohttp answers a complete 500
    resp = web.StreamResponse(headers=STREAM_HEADERS)
    if plan.content_length:
        resp.content_length = plan.total
    await resp.prepare(request)
    async with contextlib.aclosing(producer):
        async for chunk in producer:
            await resp.write(chunk)
    await resp.write_eof()
    return resp


async def sse(request: web.Request) -> web.StreamResponse:
    """``GET /sse``: aiohttp-sse's response, carrying the shared producer's blocks as UTF-8."""
    try:
        plan = SsePlan.from_request(request.query, request.headers.get("Last-Event-ID"))
    except PlanError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    if plan.exhausted:
        return web.Response(status=204)  # nothing left: tells a browser to stop reconnecting
    async with sse_response(request, headers=dict(SSE_HEADERS)) as resp:
        async with contextlib.aclosing(produce_events(plan)) as blocks:
            async for block in blocks:
                await resp.write(block.encode("utf-8"))
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
