"""Broken: every store error becomes a 500 (a missing key, an unsatisfiable range)."""

from reference.app import StreamHandler, make_app
from reference.asgi import send_whole
from reference.objects import ObjectRoute


class Route(ObjectRoute):
    async def _store_error(self, send, s3, key, exc):
        await send_whole(send, 500, b"internal server error\n")


app = make_app(objects=Route(StreamHandler()))
SELECT = ("objects.not-found", "objects.range*")
CAUGHT_BY = {"objects.not-found", "objects.range-supported"}
