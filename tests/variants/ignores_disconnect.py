"""Broken: streams without watching ``receive()``, so a client that leaves is never noticed.

On uvicorn, ``send`` after a disconnect returns silently, so the producer runs to its natural end.
"""

from reference.app import StreamHandler, make_app


class IgnoresDisconnect(StreamHandler):
    async def deliver(self, producer, send, receive):
        await self.pump(producer, send)


app = make_app(IgnoresDisconnect())
CAUGHT_BY = {"abort.fin-cleanup.chunked", "abort.fin-cleanup.length", "abort.healthy-after-100.chunked",
             "abort.healthy-after-100.length", "abort.idle.chunked", "abort.idle.length",
             "abort.rst-cleanup.chunked", "abort.rst-cleanup.length", "abort.stops-producer.chunked",
             "abort.stops-producer.length", "abort.while-backpressured.chunked",
             "abort.while-backpressured.length", "sse.idle-disconnect"}
