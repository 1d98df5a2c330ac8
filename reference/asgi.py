"""Small ASGI helpers the reference app uses: query parsing and one-shot responses."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl


def query_of(scope: dict) -> dict[str, str]:
    """First value of each query parameter."""
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    out: dict[str, str] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


async def send_whole(send, status: int, body: bytes, content_type: bytes = b"text/plain", headers=()) -> None:
    """A complete, Content-Length-framed response in two ASGI messages.

    A 204 carries neither content nor Content-Length (RFC 9110 section 8.6: "A server MUST NOT send a
    Content-Length header field in any response with a status code of 1xx or 204").
    """
    framing = [] if status == 204 else [(b"content-type", content_type),
                                         (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*framing, *headers]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_json(send, status: int, payload: Any) -> None:
    body = json.dumps(payload).encode()
    await send_whole(send, status, body, b"application/json", [(b"cache-control", b"no-store")])


async def stream_plan_or_answer(scope, send):
    """The request's ``StreamPlan``, or None after answering 400 for a bad plan."""
    from streamspec.contract import PlanError, StreamPlan

    try:
        return StreamPlan.from_query(query_of(scope))
    except PlanError as exc:
        await send_whole(send, 400, str(exc).encode())
        return None


async def sse_plan_or_answer(scope, send):
    """The request's ``SsePlan``, or None after answering it: 400 for a bad plan, 204 when nothing is left
    after ``Last-Event-ID`` (which tells a browser to stop reconnecting)."""
    from streamspec.contract import PlanError
    from streamspec.sse import SsePlan

    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    try:
        plan = SsePlan.from_request(query_of(scope), headers.get("last-event-id"))
    except PlanError as exc:
        await send_whole(send, 400, str(exc).encode())
        return None
    if plan.exhausted:
        await send_whole(send, 204, b"")
        return None
    return plan


async def wait_for_disconnect(receive) -> None:
    """Drain the request and return once the client has gone (``http.disconnect``)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
