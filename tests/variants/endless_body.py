"""Broken: ``/stream`` and ``/sse`` never end: after the plan's last chunk (or event) the server keeps
sending more body, forever. The suite must not collect it: each exchange stops at what the contract
allows (``invalid: more body than the contract allows``), so its memory stays bounded and the cases that
read to the end fail quickly."""

import asyncio

from reference.app import StreamHandler, make_app

FILLER = b"x" * 65536


class EndlessBody(StreamHandler):
    async def finish(self, send):
        while True:  # a client that stops reading eventually blocks this send (backpressure)
            await super().write(send, FILLER)
            await asyncio.sleep(0)


app = make_app(EndlessBody())
# Every case that reads a chunked body or an event stream to its end. A declared length is safe: the
# ASGI server refuses body past Content-Length, so the client gets exactly the declared bytes.
CAUGHT_BY = {"backpressure.slow-reader.chunked", "chunking.empty-write", "chunking.flush-per-write", "chunking.head",
             "chunking.headers-first", "chunking.http10-no-chunked", "chunking.keep-alive", "chunking.reassembly",
             "sse.browser-eventsource", "sse.content-type", "sse.flush-per-event", "sse.framing",
             "sse.headers-first", "sse.identity-encoding", "sse.keepalive-comments", "sse.no-cache",
             "sse.resume", "sse.retry"}
