"""``POST|PUT /upload`` and ``POST /echo`` of the uploads contract (``streamspec.uploads``), in pure ASGI.

What "correct" means here, each point checked by the conformance suite:

* the body is consumed message by message from ``receive()`` as it arrives: the handler sees the first
  piece while the client is still sending, and never holds more than one piece; ASGI servers stop
  reading the socket while the app does not ask for more (uvicorn pauses at 64 KiB), so a slow consumer
  pushes back on the client instead of the server buffering;
* ``receive()`` is first called only after the handler decided to read: a ``reject`` is answered before
  it, so with ``Expect: 100-continue`` the server answers the final status and never invites the body;
* ``http.disconnect`` before the last body message is the client leaving: the upload is recorded
  ``aborted`` and nothing is answered, never a count of a short body;
* ``/echo`` starts its response at once and sends each transformed piece before asking for the next.

``UploadRoutes`` is split into steps (``pieces``, ``answer``) so a broken variant overrides one.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from streamspec.contract import PlanError
from streamspec.uploads import UploadLog, UploadPlan, echo_transform

from .asgi import query_of, send_json, send_whole


class ClientLeft(Exception):
    """``http.disconnect`` arrived before the request body ended."""


class UploadRoutes:
    async def pieces(self, receive) -> AsyncIterator[bytes]:
        """The request body, one ASGI message at a time, as the server hands it over."""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientLeft("the client left before the request body ended")
            yield message.get("body", b"")
            if not message.get("more_body", False):
                return

    async def plan_or_answer(self, scope, send) -> UploadPlan | None:
        try:
            return UploadPlan.from_query(query_of(scope))
        except PlanError as exc:
            await send_whole(send, 400, f"{exc}\n".encode())
            return None

    async def upload(self, scope, receive, send) -> None:
        plan = await self.plan_or_answer(scope, send)
        if plan is None:
            return
        with UploadLog(plan) as log:
            if plan.reject:
                await send_whole(send, plan.reject, b"rejected\n")
                return
            async for data in self.pieces(receive):
                log.piece(data)
                if plan.consume_delay_ms:
                    await asyncio.sleep(plan.consume_delay_ms / 1000)
            answer = log.finish()
        await send_json(send, 200, answer)

    async def echo(self, scope, receive, send) -> None:
        plan = await self.plan_or_answer(scope, send)
        if plan is None:
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream"), (b"cache-control", b"no-store")]})
        with UploadLog(plan) as log:
            async for data in self.pieces(receive):
                log.piece(data)
                if data:
                    await send({"type": "http.response.body", "body": echo_transform(data), "more_body": True})
                if plan.consume_delay_ms:
                    await asyncio.sleep(plan.consume_delay_ms / 1000)
            log.finish()
        await send({"type": "http.response.body", "body": b"", "more_body": False})
