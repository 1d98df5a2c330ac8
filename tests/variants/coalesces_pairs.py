"""Broken: body writes are sent in pairs: every odd write waits for the next one and both go out as one
message (Nagle-like coalescing in a userspace buffer). Each pair's second chunk is on time, the first is
a whole gap late, so an ordering check with the clock error as its only margin passes or fails by a
fraction of a millisecond; the latency and arrival-gap margins fail it every time."""

from reference.app import StreamHandler, make_app
from tests.variants._per_request import per_request


class CoalescesPairs(StreamHandler):
    def __init__(self):
        self._held = None

    async def write(self, send, data):
        if self._held is None:
            self._held = data
            return
        data, self._held = self._held + data, None
        await super().write(send, data)

    async def finish(self, send):
        if self._held is not None:
            await super().write(send, self._held)
            self._held = None
        await super().finish(send)


app = make_app(routes=per_request(CoalescesPairs))
SELECT = ("chunking.*", "sse.*")
CAUGHT_BY = {"chunking.flush-per-write", "sse.flush-per-event"}
