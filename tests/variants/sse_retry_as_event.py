"""Broken (SSE only): a retry-only item is framed with an empty ``data:`` line (``retry: N`` plus
``data:``), as an SSE helper that always writes a data field does, so every client dispatches an empty
message event for it."""

from reference.app import StreamHandler, make_app
from streamspec.sse import SseRetry


class RetryAsEvent(StreamHandler):
    def frame(self, item):
        if isinstance(item, SseRetry):
            return f"retry: {item.ms}\ndata: \n\n".encode()
        return super().frame(item)


app = make_app(RetryAsEvent())
SELECT = "sse.*"
CAUGHT_BY = {"sse.retry", "sse.browser-eventsource"}
