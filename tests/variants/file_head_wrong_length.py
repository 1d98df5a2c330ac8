"""Broken: HEAD of a file declares ``Content-Length: 0`` (the length of the empty HEAD body, not of the
file a GET would send)."""

from reference.app import StreamHandler, make_app
from reference.files import FileRoutes


class Routes(FileRoutes):
    async def _answer(self, scope, receive, send, fh, name, ranged):
        if scope["method"] == "HEAD":
            async def zero(message):
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [(k, b"0" if k == b"content-length" else v)
                                                       for k, v in message["headers"]]}
                await send(message)
            return await super()._answer(scope, receive, zero, fh, name, ranged)
        await super()._answer(scope, receive, send, fh, name, ranged)


app = make_app(files=Routes(StreamHandler()))
SELECT = ("files.head*", "files.get.*")
CAUGHT_BY = {"files.head.native", "files.head.streamed", "files.head-headers.native", "files.head-headers.streamed"}
