"""Broken: collects the whole body, then sends headers and body in one go (no streaming at all)."""

from reference.app import StreamHandler, make_app
from tests.variants._per_request import per_request


class BuffersWholeBody(StreamHandler):
    async def start(self, send, status, headers):
        self._pending_start = (status, headers)

    async def pump(self, producer, send):
        body = b"".join([data async for data in producer])
        status, headers = self._pending_start
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def finish(self, send):  # HEAD: the deferred start still has to go out
        status, headers = self._pending_start
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await super().finish(send)


app = make_app(routes=per_request(BuffersWholeBody))
# Also: the abort cases never get the first chunks to read within their 5 s wait (the whole body, 400 x
# 25 ms or 3000 x 2 ms, is still being collected), and a producer error discards everything, so the
# partial body is lost (a 500 instead).
CAUGHT_BY = {"abort.fin-cleanup.chunked", "abort.fin-cleanup.length", "abort.healthy-after-100.chunked",
             "abort.healthy-after-100.length", "abort.rst-cleanup.chunked", "abort.rst-cleanup.length",
             "abort.stops-producer.chunked", "abort.stops-producer.length",
             "abort.while-backpressured.chunked", "abort.while-backpressured.length",
             "backpressure.slow-reader.chunked", "backpressure.slow-reader.length",
             "backpressure.stalled-reader.chunked", "backpressure.stalled-reader.length",
             "chunking.flush-per-write", "chunking.headers-first", "errors.http-error-truncated.chunked",
             "errors.http-error-truncated.length", "errors.truncated.chunked", "errors.truncated.length",
             "sse.flush-per-event", "sse.headers-first", "sse.keepalive-comments"}
