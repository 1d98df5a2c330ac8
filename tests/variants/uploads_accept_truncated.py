"""Broken: the client leaving (``http.disconnect``) is taken for the end of the request body, so an
upload cut off half-way is handled, hashed and recorded as a complete, shorter body.

The shape of a read loop that stops on "no more data" without asking why: ``while chunk := read()``.
"""

from reference.app import make_app
from reference.uploads import UploadRoutes


class AcceptsTruncated(UploadRoutes):
    async def pieces(self, receive):
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # wrong: the body did not end, the client left
            yield message.get("body", b"")
            if not message.get("more_body", False):
                return


app = make_app(uploads=AcceptsTruncated())
SELECT = ("upload.*", "echo.*")
CAUGHT_BY = {"upload.abort.chunked", "upload.abort.length", "upload.ends-early.chunked", "upload.ends-early.length"}
