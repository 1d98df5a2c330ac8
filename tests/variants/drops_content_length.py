"""Broken: ignores the declared length and streams with chunked coding anyway."""

from reference.app import StreamHandler, make_app


class DropsContentLength(StreamHandler):
    def headers(self, plan):
        return [h for h in super().headers(plan) if h[0] != b"content-length"]


app = make_app(DropsContentLength())
# Every declared-length case that reads the head proves its framing, so each fails here: with the length
# dropped, none of them can run as a declared-length case (the idle abort and the stalled streams of
# loop-responsive never read a head).
CAUGHT_BY = {"chunking.content-length", "abort.fin-cleanup.length", "abort.healthy-after-100.length",
             "abort.rst-cleanup.length", "abort.stops-producer.length", "abort.while-backpressured.length",
             "backpressure.slow-reader.length", "backpressure.stalled-reader.length",
             "errors.http-error-truncated.length", "errors.truncated.length"}
