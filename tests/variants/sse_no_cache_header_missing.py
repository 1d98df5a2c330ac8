"""Broken (SSE only): the event stream is sent without ``Cache-Control``, so a cache between the
browser and the server may store it."""

from reference.app import StreamHandler, make_app


class NoCacheHeaderMissing(StreamHandler):
    async def start(self, send, status, headers):
        await super().start(send, status, [(k, v) for k, v in headers if k.lower() != b"cache-control"])


app = make_app(routes={"/sse": NoCacheHeaderMissing().sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.no-cache"}
