"""Broken: the whole request body is read into memory before the upload handler runs (a middleware or
framework that "helpfully" collects ``request.body`` first), then handed over as one piece.

The handler cannot see a piece while the client is still sending, a 512 MiB upload costs 512 MiB, and a
slow handler never pushes back (the body was taken at full speed). Its ``start`` comes only after the body
is complete (a client that leaves first never reaches it: the abort cases pass, as they must for a
framework that spools), and a handler that would reject the upload at once never gets the chance while
the client holds the body back for its ``100 Continue``.
"""

from reference.app import make_app
from reference.uploads import UploadRoutes
from tests.variants._spool import spool


class BuffersWholeBody(UploadRoutes):
    async def upload(self, scope, receive, send):
        replayed = await spool(receive, on_disconnect="drop")
        if replayed is not None:
            await super().upload(scope, replayed, send)


app = make_app(uploads=BuffersWholeBody())
SELECT = ("upload.*", "echo.*")
CAUGHT_BY = {"upload.incremental.chunked", "upload.incremental.length", "upload.memory", "upload.backpressure",
             "upload.expect-reject"}
