"""Broken: HEAD of a file leaves out ETag and Last-Modified that GET sends (a client revalidating with
HEAD learns nothing)."""

from reference.app import StreamHandler, make_app
from reference.files import FileRoutes


class Routes(FileRoutes):
    async def _answer(self, scope, receive, send, fh, name, ranged):
        if scope["method"] == "HEAD":
            async def strip(message):
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [h for h in message["headers"]
                                                       if h[0] not in (b"etag", b"last-modified")]}
                await send(message)
            return await super()._answer(scope, receive, strip, fh, name, ranged)
        await super()._answer(scope, receive, send, fh, name, ranged)


app = make_app(files=Routes(StreamHandler()))
SELECT = "files.head*"
CAUGHT_BY = {"files.head-headers.native"}
