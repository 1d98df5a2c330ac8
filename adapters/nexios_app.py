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

``python -m adapters.nexios_app --host H --port P [--server uvicorn|hypercorn|granian]`` serves it with
one worker until SIGTERM. uvicorn runs with ``http="httptools"``, what ``uvicorn[standard]`` picks in
production (the reference runs uvicorn's h11 protocol instead).
"""

from __future__ import annotations

import contextlib
import sys

from nexios import NexiosApp
from nexios.exceptions import HTTPException

from streamspec import asgi_servers
from streamspec.contract import PlanError, StreamPlan
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import HEADERS as SSE_HEADERS
from streamspec.sse import SsePlan, produce_text

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
    return asgi_servers.main(["--app", "adapters.nexios_app:app", "--uvicorn-http", UVICORN_HTTP, *args],
                             prog="python -m adapters.nexios_app")


if __name__ == "__main__":
    sys.exit(main())
