"""Broken (SSE only): the stream does not watch ``receive()`` for ``http.disconnect``, so a client that
leaves while the producer waits for its next event is only noticed at the next write, if ever."""

from reference.app import StreamHandler, make_app


class IdleDisconnectIgnored(StreamHandler):
    async def deliver(self, producer, send, receive):
        await self.pump(producer, send)


app = make_app(routes={"/sse": IdleDisconnectIgnored().sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.idle-disconnect"}
