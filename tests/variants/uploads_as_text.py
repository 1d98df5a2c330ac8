"""Broken: the request body is handled as text: each piece decoded as UTF-8 (``errors="replace"``) and
encoded again before the handler uses it, as a framework's text stream or a helper that "normalises"
input would. Binary uploads change (every invalid byte becomes U+FFFD) while their lengths and piece
boundaries look plausible; only checking every byte catches it.
"""

from reference.app import make_app
from reference.uploads import UploadRoutes


class UploadsAsText(UploadRoutes):
    async def pieces(self, receive):
        async for data in super().pieces(receive):
            yield data.decode("utf-8", errors="replace").encode("utf-8")


app = make_app(uploads=UploadsAsText())
SELECT = ("upload.*", "echo.*")
CAUGHT_BY = {"upload.exact.chunked", "upload.exact.length", "upload.incremental.chunked", "upload.incremental.length",
             "upload.memory", "upload.backpressure", "upload.expect-continue", "echo.duplex", "echo.exact",
             # their preconditions check bytes too: a whole 5-byte upload, the echo's first 16 KiB
             "upload.abort.chunked", "upload.abort.length", "upload.ends-early.chunked", "upload.ends-early.length",
             "echo.backpressure"}
