"""Broken: with a declared length, a chunk written after a ``send`` that blocked has one byte flipped (a
buffer reused before the transport drained it). Chunked streams and fast clients are unaffected, so
only a case that reads a declared-length body under backpressure and checks every byte sees it."""

import time

from reference.app import StreamHandler, make_app
from tests.variants._per_request import per_request

BLOCKED_S = 0.02


class CorruptsUnderBackpressure(StreamHandler):
    def __init__(self):
        self._blocked = False
        self._declared = False

    async def start(self, send, status, headers):
        self._declared = any(k == b"content-length" for k, _ in headers)
        await super().start(send, status, headers)

    async def write(self, send, data):
        if self._declared and self._blocked and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        t0 = time.monotonic()
        await super().write(send, data)
        self._blocked = time.monotonic() - t0 > BLOCKED_S


app = make_app(routes=per_request(CorruptsUnderBackpressure))
SELECT = ("backpressure.*", "abort.*")
CAUGHT_BY = {"backpressure.slow-reader.length"}
