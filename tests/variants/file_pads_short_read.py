"""Broken: a file that shrinks while it is sent is padded with zeros up to the declared length, so the
response looks complete but carries bytes the file never had (a send loop that trusts the length it
declared instead of what the read returned)."""

import asyncio

import reference.files as F
from reference.app import make_app


async def read_span(fh, start, length):
    fh.seek(start)
    left = length
    while left:
        data = await asyncio.to_thread(fh.read, min(F.READ_SIZE, left))
        data = data or bytes(min(F.READ_SIZE, left))
        left -= len(data)
        yield data


F.read_span = read_span
app = make_app()
SELECT = ("files.changing.*", "files.get.*")
CAUGHT_BY = {"files.changing.native", "files.changing.streamed"}
