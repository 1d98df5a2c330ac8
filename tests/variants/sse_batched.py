"""Broken (SSE only): blocks are collected and sent three at a time (what a buffering middleware or an
unflushed writer does), so each event waits for the next two before it reaches the client."""

from reference.app import StreamHandler, make_app

BATCH = 3


class Batched(StreamHandler):
    def __init__(self):
        self._held = []

    async def write(self, send, data):
        self._held.append(data)
        if len(self._held) >= BATCH:
            await super().write(send, b"".join(self._held))
            self._held = []

    async def finish(self, send):
        if self._held:
            await super().write(send, b"".join(self._held))
            self._held = []
        await super().finish(send)


async def sse(scope, receive, send):
    await Batched().sse(scope, receive, send)


app = make_app(routes={"/sse": sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.flush-per-event", "sse.keepalive-comments"}
