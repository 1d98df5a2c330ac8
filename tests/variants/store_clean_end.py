"""Broken: a store that fails mid-object ends the response cleanly: the body goes out chunked (no
Content-Length, as the seed library sends it) and a failed read is taken for the end ("an empty read
means the end"), so the last chunk follows the cut."""

import reference.objects as O
from reference.app import StreamHandler, make_app


async def object_body(stream, declared):
    try:
        while True:
            try:
                data = await stream.read(O.READ_SIZE)
            except Exception:  # noqa: BLE001 - the bug: a failed read taken for the end
                return
            if not data:
                return
            yield data
    finally:
        stream.close()


class NoLength(StreamHandler):
    async def start(self, send, status, headers):
        await super().start(send, status, [h for h in headers if h[0] != b"content-length"])


O.object_body = object_body
app = make_app(objects=O.ObjectRoute(NoLength()))
SELECT = ("objects.store-dies", "objects.get")
CAUGHT_BY = {"objects.store-dies"}
