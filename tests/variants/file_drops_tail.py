"""Broken: reads 4096-byte blocks and stops at the first short one, losing a file's last partial block
(the seed's chunk size: a file of 4095 or 4097 bytes arrives short)."""

import asyncio

import reference.files as F
from reference.app import make_app


async def read_span(fh, start, length):
    fh.seek(start)
    while True:
        data = await asyncio.to_thread(fh.read, 4096)
        if len(data) < 4096:
            return
        yield data


F.read_span = read_span
app = make_app()
SELECT = ("files.get.*", "files.disposition.*")
CAUGHT_BY = {"files.get.native", "files.get.streamed", "files.disposition.native", "files.disposition.streamed"}
