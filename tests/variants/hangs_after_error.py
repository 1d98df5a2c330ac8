"""Broken: after a producer error mid-stream, the handler swallows it and waits for the client to leave,
so the response is never finished nor aborted: the connection hangs."""

from reference.app import StreamHandler, make_app
from reference.asgi import wait_for_disconnect
from streamspec.producer import ProducerError


class HangsAfterError(StreamHandler):
    async def deliver(self, producer, send, receive):
        try:
            await super().deliver(producer, send, receive)
        except ProducerError:
            await wait_for_disconnect(receive)


app = make_app(HangsAfterError())
SELECT = "errors.*"
CAUGHT_BY = {"errors.truncated.chunked", "errors.truncated.length"}
