"""Broken: ``write`` never waits. It appends the chunk to an unbounded per-response buffer that a
background task drains into ``send``, so the producer is never held back by a slow client.

Unlike ``ignores_backpressure`` (which decouples the producer from the pump) this is the buffered-
writer mistake: a "non-blocking write" helper with no high-water mark. Its memory grows by the whole
unread stream for every stalled client, which is what the load gate's RSS-per-stream threshold must
catch (``tests/test_load_gate.py``); the conformance suite catches it through the producer's lead.
"""

import asyncio

from reference.app import StreamHandler, make_app
from tests.variants._per_request import per_request

_END = object()


class UnboundedBuffer(StreamHandler):
    def __init__(self) -> None:
        self._buffer: asyncio.Queue | None = None
        self._drainer: asyncio.Future | None = None

    async def write(self, send, data):
        if self._drainer is None:
            self._buffer = asyncio.Queue()  # no maxsize: the mistake
            self._drainer = asyncio.ensure_future(self._drain(send))
        self._buffer.put_nowait(data)  # returns at once, whatever the client has read

    async def _drain(self, send):
        while (data := await self._buffer.get()) is not _END:
            await StreamHandler.write(self, send, data)

    async def finish(self, send):
        if self._drainer is not None:
            self._buffer.put_nowait(_END)
            await self._drainer  # everything buffered goes out before the final chunk
        await super().finish(send)

    async def pump(self, producer, send):
        try:
            await super().pump(producer, send)
        finally:
            if self._drainer is not None and not self._drainer.done():
                self._drainer.cancel()  # client gone or producer failed: drop what is buffered


app = make_app(routes=per_request(UnboundedBuffer))
CAUGHT_BY = {"abort.while-backpressured.chunked", "abort.while-backpressured.length",
             "backpressure.slow-reader.chunked", "backpressure.slow-reader.length",
             "backpressure.stalled-reader.chunked", "backpressure.stalled-reader.length"}
