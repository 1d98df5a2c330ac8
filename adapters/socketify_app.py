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
"""

from __future__ import annotations

import argparse
import contextlib

from socketify import App, AppListenOptions

from streamspec.contract import PlanError, StreamPlan
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SsePlan, produce_text


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


def make_app() -> App:
    app = App()
    app.get("/stream", stream)
    app.get("/sse", sse)
    app.get("/probe", probe)
    app.get("/health", health)
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
