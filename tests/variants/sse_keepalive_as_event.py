"""Broken (SSE only): the keep-alive is sent as a real event (``event: keepalive`` with data) instead of
a comment line, so every browser listener sees a message it never asked for."""

from reference.app import StreamHandler, make_app
from streamspec.sse import SseKeepAlive


class KeepaliveAsEvent(StreamHandler):
    def frame(self, item):
        return b"event: keepalive\ndata: ping\n\n" if isinstance(item, SseKeepAlive) else super().frame(item)


app = make_app(routes={"/sse": KeepaliveAsEvent().sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.keepalive-comments"}
