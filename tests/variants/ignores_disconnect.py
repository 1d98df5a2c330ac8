"""Broken: streams without watching ``receive()``, so a client that leaves is never noticed.

On uvicorn, ``send`` after a disconnect returns silently, so the producer runs to its natural end.
"""

from reference.app import StreamHandler, make_app


class IgnoresDisconnect(StreamHandler):
    async def deliver(self, producer, send, receive):
        await self.pump(producer, send)


app = make_app(IgnoresDisconnect())
CAUGHT_BY = {"abort.fin-cleanup", "abort.rst-cleanup", "abort.idle", "abort.stops-producer",
             "abort.healthy-after-100", "abort.while-backpressured",
             "sse.idle-disconnect"}
