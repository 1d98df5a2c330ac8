"""Broken: every body write is held for 100 ms before it goes out (a flush timer, a "write-behind"
buffer). Each write still arrives before the next one is produced when they are 250 ms apart, so an
ordering-only flush check passes it; the per-write latency bound does not."""

import asyncio

from reference.app import StreamHandler, make_app

HOLD_S = 0.1


class HoldsEachWrite(StreamHandler):
    async def write(self, send, data):
        await asyncio.sleep(HOLD_S)
        await super().write(send, data)


app = make_app(HoldsEachWrite())
SELECT = ("chunking.*", "sse.*")
CAUGHT_BY = {"chunking.flush-per-write", "sse.flush-per-event"}
