"""Broken: hides producer errors. A mid-stream exception ends the body cleanly (terminating chunk), and
a failure before the response starts becomes an empty 200."""

from reference.app import StreamHandler, make_app
from streamspec.producer import ProducerError


async def _until_error(producer):
    """The producer's chunks, stopping quietly where it raises: the mistake under test."""
    try:
        async for data in producer:
            yield data
    except ProducerError:
        pass  # "handled": the client gets a well-formed, silently short body
    finally:
        await producer.aclose()


class CleanEndAfterError(StreamHandler):
    async def pump(self, producer, send):
        await super().pump(_until_error(producer), send)

    async def stream(self, scope, receive, send):
        try:
            await super().stream(scope, receive, send)
        except ProducerError:  # raised before the response started
            await self.start(send, 200, [(b"content-length", b"0")])
            await self.finish(send)


app = make_app(CleanEndAfterError())
SELECT = "errors.*"
CAUGHT_BY = {"errors.fail-before-start", "errors.truncated.chunked"}
