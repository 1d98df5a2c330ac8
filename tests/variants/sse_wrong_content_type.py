"""Broken (SSE only): the event stream is labelled ``text/plain; charset=utf-8`` (a framework's default
for a streamed str body), which makes a browser's EventSource fail the connection."""

from reference.app import StreamHandler, make_app


class WrongContentType(StreamHandler):
    async def start(self, send, status, headers):
        headers = [(k, b"text/plain; charset=utf-8" if k.lower() == b"content-type" else v) for k, v in headers]
        await super().start(send, status, headers)


app = make_app(routes={"/sse": WrongContentType().sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.browser-eventsource", "sse.content-type"}
