"""Broken (legal, but no resumable downloads): the file server ignores Range and says nothing of ranges."""

import reference.ranges as R
from reference.app import StreamHandler, make_app
from reference.files import FileRoutes

R.parse_ranges = lambda value, size: None


class NoAcceptRanges(StreamHandler):
    async def start(self, send, status, headers):
        await super().start(send, status, [h for h in headers if h[0] != b"accept-ranges"])


app = make_app(files=FileRoutes(NoAcceptRanges()))
SELECT = "files.range*"
CAUGHT_BY = {"files.range.supported"}
