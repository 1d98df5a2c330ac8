"""Broken: downloads go out chunked (no Content-Length) and end at the file's first end-of-file, so a file
that shrinks while it is sent ends with a clean last chunk after a prefix of the old file: a silent
truncation (the seed library's loop: "an empty read means the end", findings D13)."""

import asyncio

import reference.files as F
from reference.app import StreamHandler, make_app
from reference.files import FileRoutes


async def read_span(fh, start, length):
    fh.seek(start)
    while True:
        data = await asyncio.to_thread(fh.read, F.READ_SIZE)
        if not data:
            return
        yield data


class NoLength(StreamHandler):
    async def start(self, send, status, headers):
        await super().start(send, status, [h for h in headers if h[0] != b"content-length"])


F.read_span = read_span
app = make_app(files=FileRoutes(NoLength()))
SELECT = "files.changing.*"
CAUGHT_BY = {"files.changing.native", "files.changing.streamed"}
