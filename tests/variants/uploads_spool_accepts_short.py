"""Broken: the request body is spooled whole before the handler runs, and when the client leaves half-way
the spool is handed to the handler anyway, as a complete (shorter) body.

The abort cases must catch a server that never ran the handler mid-upload too: they cannot watch the
handler while the body is incomplete, but they watch what it is given afterwards.
"""

from reference.app import make_app
from reference.uploads import UploadRoutes


class SpoolsAcceptsShort(UploadRoutes):
    async def upload(self, scope, receive, send):
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break  # wrong: the spool is short, not complete
            body += message.get("body", b"")
            more = message.get("more_body", False)
        replay = iter([{"type": "http.request", "body": bytes(body), "more_body": False}])

        async def replayed():
            return next(replay, {"type": "http.disconnect"})

        await super().upload(scope, replayed, send)


app = make_app(uploads=SpoolsAcceptsShort())
SELECT = ("upload.*", "echo.*")
CAUGHT_BY = {"upload.incremental.chunked", "upload.incremental.length", "upload.memory", "upload.backpressure",
             "upload.expect-reject", "upload.abort.chunked", "upload.abort.length", "upload.ends-early.chunked",
             "upload.ends-early.length"}
