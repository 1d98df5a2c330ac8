"""Broken: answers HEAD on the stream with 405 instead of GET's headers."""

from reference.app import StreamHandler, make_app
from reference.asgi import send_whole


class HeadNotAllowed(StreamHandler):
    async def stream(self, scope, receive, send):
        if scope["method"] == "HEAD":
            await send_whole(send, 405, b"", headers=[(b"allow", b"GET")])
            return
        await super().stream(scope, receive, send)


app = make_app(HeadNotAllowed())
SELECT = "chunking.*"
CAUGHT_BY = {"chunking.head"}
