"""Broken: reads the whole file into memory before sending it (both download routes): a 256 MiB download
costs 256 MiB of server memory, stalled reader or not."""

import asyncio

import reference.files as F
from reference.app import make_app


async def read_span(fh, start, length):
    fh.seek(start)
    data = await asyncio.to_thread(fh.read, length)
    for i in range(0, len(data), F.READ_SIZE):
        yield data[i:i + F.READ_SIZE]


F.read_span = read_span
app = make_app()
SELECT = ("files.stalled-memory.*", "files.download.*")
CAUGHT_BY = {"files.stalled-memory.native", "files.stalled-memory.streamed", "files.download.native",
             "files.download.streamed"}
