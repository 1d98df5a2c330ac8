"""Broken (SSE only): the keep-alive is sent as a real event (``event: keepalive`` with data) instead of
a comment line, so every browser listener sees a message it never asked for."""

from reference.app import StreamHandler, make_app
from streamspec.sse import KEEPALIVE

PING = b"event: keepalive\ndata: ping\n\n"


class KeepaliveAsEvent(StreamHandler):
    async def write(self, send, data):
        await super().write(send, PING if data == KEEPALIVE.encode() else data)


app = make_app(routes={"/sse": KeepaliveAsEvent().sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.keepalive-comments"}
