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
CAUGHT_BY = {"abort.fin-cleanup.chunked", "abort.fin-cleanup.length", "abort.healthy-after-100.chunked",
             "abort.healthy-after-100.length", "abort.rst-cleanup.chunked", "abort.rst-cleanup.length",
             "abort.stops-producer.chunked", "abort.stops-producer.length",
             "abort.while-backpressured.chunked", "abort.while-backpressured.length",
             "backpressure.slow-reader.chunked", "backpressure.slow-reader.length",
             "backpressure.stalled-reader.chunked", "backpressure.stalled-reader.length",
             "chunking.flush-per-write", "errors.http-error-truncated.chunked",
             "errors.http-error-truncated.length", "errors.truncated.chunked", "errors.truncated.length",
             "sse.flush-per-event", "sse.keepalive-comments"}
