"""Broken: a chunk whose ``send`` blocked (the client was slow) is sent twice: a retry-on-slow-write
bug. Nothing is wrong while the client keeps up, so only cases that read under backpressure and check
every byte they read can see it."""

import time

from reference.app import StreamHandler, make_app

BLOCKED_S = 0.02  # a send that took this long waited for the transport to drain


class DuplicatesWhenBlocked(StreamHandler):
    async def write(self, send, data):
        t0 = time.monotonic()
        await super().write(send, data)
        if data and time.monotonic() - t0 > BLOCKED_S:
            await super().write(send, data)


app = make_app(DuplicatesWhenBlocked())
SELECT = ("backpressure.*", "abort.*")
CAUGHT_BY = {"backpressure.slow-reader.chunked", "backpressure.slow-reader.length"}
