"""The scenario contract served by Sanic, streamed the way Sanic's documentation teaches it.

Streaming idiom (Sanic >= 21.3, "Response streaming" in the Sanic user guide)::

    response = await request.respond(content_type=..., headers=...)
    await response.send(chunk)      # once per produced chunk
    await response.eof()

Only the carrying of chunks is Sanic's; the producer, the SSE producer and the probe are the shared
ones from ``streamspec``, so a verdict that differs from the reference is Sanic's behaviour.

What this adapter deliberately does *not* do, so that the verdict shows Sanic as users get it:

* no header flush before the first chunk (``request.respond`` sends nothing until the first
  ``send``: that is Sanic's documented behaviour);
* no disconnect watcher: Sanic cancels the handler task when the connection is lost
  (``connection_lost``), which is the framework's own disconnect handling;
* no catching of a mid-stream producer error: it propagates into Sanic's error handling;
* no special HEAD code: the routes accept HEAD and Sanic's HTTP/1 layer drops the body itself.

``raise_as=http`` raises ``SanicException(status_code=503)``, Sanic's documented way to answer with a
status. Sanic has no SSE API: ``/sse`` sends each logical event framed by the shared
``streamspec.sse.encode`` (keep-alives as comment lines) through the same ``response.send()``.

``async with aclosing(producer)`` is plain Python async-generator hygiene (PEP 525 / contextlib), not
disconnect handling: it makes the producer's ``finally`` run when the handler ends for any reason,
as the reference's ``finally: await producer.aclose()`` does.

Run: ``python -m adapters.sanic_app --host 127.0.0.1 --port 8000`` (Sanic's own runner, one
process: ``app.run(..., single_process=True)``), serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import aclosing

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import json, text

from streamspec.contract import PlanError, StreamPlan
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SsePlan, produce_text

app = Sanic("streamspec_sanic")


def query_of(request: Request) -> dict[str, str]:
    """First value of each query parameter, blanks kept (``sizes=`` means zero chunks), as the
    reference parses it; Sanic's ``request.args`` drops blank values by default."""
    return {key: values[0] for key, values in request.get_args(keep_blank_values=True).items()}


@app.route("/stream", methods=["GET", "HEAD"])
async def stream(request: Request):
    try:
        plan = StreamPlan.from_query(query_of(request))
    except PlanError as exc:
        return text(str(exc), status=400)
    # A ProducerError here propagates before anything was sent: Sanic's error handler answers 500.
    producer = open_stream(plan, http_error=http_error)
    headers = {"cache-control": "no-store"}
    if plan.content_length:
        headers["content-length"] = str(plan.total)
    async with aclosing(producer):
        response = await request.respond(content_type="application/octet-stream", headers=headers)
        async for chunk in producer:
            await response.send(chunk)
        await response.eof()


def http_error(status: int, message: str) -> SanicException:
    """The contract's framework HTTP error (``raise_as=http``): Sanic's own exception type."""
    return SanicException(message, status_code=status)


@app.route("/sse", methods=["GET", "HEAD"])
async def sse(request: Request):
    try:
        plan = SsePlan.from_request(query_of(request), request.headers.get("last-event-id"))
    except PlanError as exc:
        return text(str(exc), status=400)
    if plan.exhausted:
        return text("", status=204)  # nothing left: tells a browser to stop reconnecting
    headers = dict(SSE_HEADERS)
    content_type = headers.pop("content-type")
    async with aclosing(produce_text(plan)) as events:
        response = await request.respond(content_type=content_type, headers=headers)
        async for block in events:
            await response.send(block.encode("utf-8"))
        await response.eof()


@app.route("/probe", methods=["GET", "HEAD"])
async def probe(request: Request):
    return json(PROBE.snapshot(query_of(request).get("id")), headers={"cache-control": "no-store"})


@app.route("/health", methods=["GET", "HEAD"])
async def health(request: Request):
    return text("ok\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m adapters.sanic_app", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    # single_process: no worker manager, so the probe's pid is this very process (the launched one).
    app.run(host=args.host, port=args.port, single_process=True, motd=False, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
