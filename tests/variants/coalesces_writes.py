"""Broken: headers go out at once, but body writes are held in a buffer and flushed only at the end."""

from reference.app import StreamHandler, make_app
from tests.variants._per_request import per_request


class CoalescesWrites(StreamHandler):
    def __init__(self):
        self._held = []

    async def write(self, send, data):
        self._held.append(data)

    async def finish(self, send):
        await send({"type": "http.response.body", "body": b"".join(self._held), "more_body": False})


app = make_app(routes=per_request(CoalescesWrites))
# Also: chunks "written" before a producer error never reach the client (the held buffer is dropped).
CAUGHT_BY = {"chunking.flush-per-write", "backpressure.stalled-reader", "backpressure.slow-reader",
             "errors.truncated-chunked", "errors.truncated-content-length",
             "sse.flush-per-event", "sse.keepalive-comments"}
