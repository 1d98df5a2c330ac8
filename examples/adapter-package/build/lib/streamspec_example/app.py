"""The streamspec contract in plain Starlette, the way its docs teach streaming (``StreamingResponse``).

Everything that is the *scenario* comes from streamspec (the plans, the producers, the probe, the upload
log), so a verdict is about how Starlette carries bytes, not about this file.
"""

import asyncio

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from streamspec.contract import PlanError, StreamPlan
from streamspec.probe import PROBE
from streamspec.producer import open_stream
from streamspec.sse import SsePlan, encode, produce_events
from streamspec.uploads import UploadLog, UploadPlan, echo_transform


def first_values(request) -> dict[str, str]:
    return {key: value for key, value in reversed(request.query_params.multi_items())}


def http_error(status: int, message: str) -> HTTPException:
    """``raise_as=http``: the framework's own HTTP error type."""
    return HTTPException(status_code=status, detail=message)


async def stream(request):
    try:
        plan = StreamPlan.from_query(first_values(request))
    except PlanError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    headers = {"Content-Length": str(plan.total)} if plan.content_length else {}
    return StreamingResponse(open_stream(plan, http_error=http_error), headers=headers,
                             media_type="application/octet-stream")


async def sse(request):
    try:
        plan = SsePlan.from_request(first_values(request), request.headers.get("last-event-id"))
    except PlanError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    if plan.exhausted:
        return Response(status_code=204)

    async def blocks():
        async for item in produce_events(plan):
            yield encode(item)

    return StreamingResponse(blocks(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def upload(request):
    try:
        plan = UploadPlan.from_query(first_values(request))
    except PlanError as exc:
        return PlainTextResponse(str(exc), status_code=400)
    with UploadLog(plan) as log:
        if plan.reject:
            return PlainTextResponse("rejected\n", status_code=plan.reject)
        async for piece in request.stream():
            log.piece(piece)
            await asyncio.sleep(plan.consume_delay_ms / 1000)  # the contract's slow consumer (0: none)
        return JSONResponse(log.finish())


async def echo(request):
    try:
        plan = UploadPlan.from_query(first_values(request))
    except PlanError as exc:
        return PlainTextResponse(str(exc), status_code=400)

    async def echoed():
        with UploadLog(plan) as log:
            async for piece in request.stream():
                log.piece(piece)
                yield echo_transform(piece)
                await asyncio.sleep(plan.consume_delay_ms / 1000)
            log.finish()

    return StreamingResponse(echoed(), media_type="application/octet-stream")


async def probe(request):
    return JSONResponse(PROBE.snapshot(request.query_params.get("id")), headers={"Cache-Control": "no-store"})


async def health(request):
    return PlainTextResponse("ok\n")


app = Starlette(routes=[
    Route("/stream", stream), Route("/sse", sse), Route("/upload", upload, methods=["POST", "PUT"]),
    Route("/echo", echo, methods=["POST"]), Route("/probe", probe), Route("/health", health),
])
