"""Broken: the request body is spooled whole before the handler runs, and when the client leaves half-way
the spool is handed to the handler anyway, as a complete (shorter) body.

The abort cases must catch a server that never ran the handler mid-upload too: they cannot watch the
handler while the body is incomplete, but they watch what it is given afterwards.
"""

from reference.app import make_app
from reference.uploads import UploadRoutes
from tests.variants._spool import spool


class SpoolsAcceptsShort(UploadRoutes):
    async def upload(self, scope, receive, send):
        replayed = await spool(receive, on_disconnect="keep")
        if replayed is not None:
            await super().upload(scope, replayed, send)


app = make_app(uploads=SpoolsAcceptsShort())
SELECT = ("upload.*", "echo.*")
CAUGHT_BY = {"upload.incremental.chunked", "upload.incremental.length", "upload.memory", "upload.backpressure",
             "upload.expect-reject", "upload.abort.chunked", "upload.abort.length", "upload.ends-early.chunked",
             "upload.ends-early.length"}
