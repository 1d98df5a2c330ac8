"""Broken: a task reads the request body as fast as it arrives into an unbounded queue, and the handler
takes the pieces from the queue at its own pace: a slow handler never slows the client down, the server
holds everything the handler has not consumed yet.

A common hand-written "decoupling" (the upload twin of ``ignores_backpressure``).
"""

import asyncio

from reference.app import make_app
from reference.uploads import ClientLeft, UploadRoutes

_END = object()


class NoUploadBackpressure(UploadRoutes):
    async def pieces(self, receive):
        queue: asyncio.Queue = asyncio.Queue()  # unbounded

        async def drain():
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    queue.put_nowait(ClientLeft("the client left before the request body ended"))
                    return
                queue.put_nowait(message.get("body", b""))
                if not message.get("more_body", False):
                    queue.put_nowait(_END)
                    return

        draining = asyncio.ensure_future(drain())
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            draining.cancel()


app = make_app(uploads=NoUploadBackpressure())
SELECT = ("upload.*", "echo.*")
CAUGHT_BY = {"upload.backpressure", "echo.backpressure"}
