"""Broken: downloads go out without Content-Length (chunked): the client cannot show progress or tell a
cut download from a complete one by its length."""

from reference.app import StreamHandler, make_app
from reference.files import FileRoutes


class NoLength(StreamHandler):
    async def start(self, send, status, headers):
        await super().start(send, status, [h for h in headers if h[0] != b"content-length"])


app = make_app(files=FileRoutes(NoLength()))
SELECT = "files.*"
CAUGHT_BY = {"files.headers.native", "files.headers.streamed"}
