"""Broken (SSE only): the ``Last-Event-ID`` request header is ignored, so every reconnection starts the
stream again from event 1 (duplicates) and a client with nothing left is never told 204."""

from reference.app import StreamHandler, make_app


class IgnoresLastEventId(StreamHandler):
    async def sse(self, scope, receive, send):
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"last-event-id"]}
        await super().sse(scope, receive, send)


app = make_app(routes={"/sse": IgnoresLastEventId().sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.browser-eventsource", "sse.exhausted-204", "sse.resume"}
