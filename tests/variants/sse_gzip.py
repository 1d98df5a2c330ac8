"""Broken (SSE only): a compression layer gzips the event stream when the request accepts gzip. Each
block is sync-flushed, so a browser still decodes it; the point is that the stream went through a layer
that may hold bytes back, which event streams should not."""

import zlib

from reference.app import StreamHandler, make_app


class Gzip(StreamHandler):
    def __init__(self):
        self._zip = None

    async def sse(self, scope, receive, send):
        accept = b", ".join(v for k, v in scope["headers"] if k.lower() == b"accept-encoding")
        if b"gzip" in accept.lower():
            self._zip = zlib.compressobj(wbits=31)
        await super().sse(scope, receive, send)

    async def start(self, send, status, headers):
        if self._zip is not None:
            headers = [*headers, (b"content-encoding", b"gzip"), (b"vary", b"accept-encoding")]
        await super().start(send, status, headers)

    async def write(self, send, data):
        if self._zip is not None:
            data = self._zip.compress(data) + self._zip.flush(zlib.Z_SYNC_FLUSH)
        await super().write(send, data)

    async def finish(self, send):
        if self._zip is not None:
            await super().write(send, self._zip.flush())
        await super().finish(send)


async def sse(scope, receive, send):
    await Gzip().sse(scope, receive, send)


app = make_app(routes={"/sse": sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.identity-encoding"}
