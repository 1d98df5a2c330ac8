"""Broken: the producer runs ahead of the transport into an unbounded queue; a second task drains it.

A common hand-written "decoupling" that keeps the producer fast and lets memory grow with every slow
client.
"""

import asyncio

from reference.app import StreamHandler, make_app

_DONE = object()


class IgnoresBackpressure(StreamHandler):
    async def pump(self, producer, send):
        queue: asyncio.Queue = asyncio.Queue()  # unbounded

        async def fill():
            try:
                async for data in producer:
                    queue.put_nowait(data)
            finally:
                queue.put_nowait(_DONE)

        filling = asyncio.ensure_future(fill())
        try:
            while (data := await queue.get()) is not _DONE:
                await self.write(send, data)
            await filling  # re-raises a producer error
            await self.finish(send)
        finally:
            filling.cancel()


app = make_app(IgnoresBackpressure())
CAUGHT_BY = {"abort.while-backpressured.chunked", "abort.while-backpressured.length",
             "backpressure.slow-reader.chunked", "backpressure.slow-reader.length",
             "backpressure.stalled-reader.chunked", "backpressure.stalled-reader.length"}
