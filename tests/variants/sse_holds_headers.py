"""Broken (SSE only): the response head is held until the first event is written, so a browser's
EventSource stays CONNECTING (no ``open``) for as long as the stream is quiet."""

from reference.app import make_app
from tests.variants.holds_headers import HoldsHeaders


async def sse(scope, receive, send):
    await HoldsHeaders().sse(scope, receive, send)


app = make_app(routes={"/sse": sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.headers-first"}
