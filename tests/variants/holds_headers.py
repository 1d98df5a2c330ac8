"""Broken: holds the response head back until the first body chunk is written (what the ASGI spec
allows a server to do, and what starves SSE and long-poll clients)."""

from reference.app import StreamHandler, make_app
from tests.variants._per_request import per_request


class HoldsHeaders(StreamHandler):
    def __init__(self):
        self._start = None

    async def start(self, send, status, headers):
        self._start = (status, headers)

    async def _flush_start(self, send):
        if self._start is not None:
            status, headers = self._start
            self._start = None
            await super().start(send, status, headers)

    async def write(self, send, data):
        await self._flush_start(send)
        await super().write(send, data)

    async def finish(self, send):
        await self._flush_start(send)
        await super().finish(send)


app = make_app(routes=per_request(HoldsHeaders))
CAUGHT_BY = {"chunking.headers-first", "sse.headers-first"}
