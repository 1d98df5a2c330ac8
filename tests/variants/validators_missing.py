"""Broken: file downloads carry neither ETag nor Last-Modified: nothing for a client to revalidate with."""

from reference.app import StreamHandler, make_app
from reference.files import FileRoutes


class NoValidators(StreamHandler):
    async def start(self, send, status, headers):
        await super().start(send, status, [h for h in headers if h[0] not in (b"etag", b"last-modified")])


app = make_app(files=FileRoutes(NoValidators()))
SELECT = ("files.validators", "files.conditional*", "files.head*")
CAUGHT_BY = {"files.validators"}
