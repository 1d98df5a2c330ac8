"""Broken (SSE only): ``retry:`` is written in seconds as a float (``retry: 0.2``), a unit mix-up. The
field is not all ASCII digits, so every client ignores it and reconnects at its default delay."""

from reference.app import StreamHandler, make_app


class RetryFloat(StreamHandler):
    async def write(self, send, data):
        if data.startswith(b"retry: "):
            data = f"retry: {int(data[7:].strip()) / 1000}\n\n".encode()
        await super().write(send, data)


app = make_app(routes={"/sse": RetryFloat().sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.browser-eventsource", "sse.retry"}
