"""Broken: treats an empty write as the end of the body (as if it were the zero-size last-chunk)."""

from reference.app import StreamHandler, make_app


class _Ended(Exception):
    pass


class EmptyWriteEndsBody(StreamHandler):
    async def write(self, send, data):
        if not data:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            raise _Ended
        await super().write(send, data)

    async def pump(self, producer, send):
        try:
            await super().pump(producer, send)
        except _Ended:
            pass


app = make_app(EmptyWriteEndsBody())
SELECT = "chunking.*"
CAUGHT_BY = {"chunking.empty-write", "chunking.reassembly"}
