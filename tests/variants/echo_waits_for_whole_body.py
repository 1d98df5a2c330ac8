"""Broken: ``/echo`` reads the whole request body first and only then writes the transformed echo: no
byte goes back while the client is still sending, and a client that does not read the echo is never
pushed back (the server takes the whole upload into memory).
"""

from streamspec.uploads import UploadLog, echo_transform

from reference.app import make_app
from reference.uploads import UploadRoutes


class EchoWaits(UploadRoutes):
    async def echo(self, scope, receive, send):
        plan = await self.plan_or_answer(scope, send)
        if plan is None:
            return
        with UploadLog(plan) as log:
            received = []
            async for data in self.pieces(receive):
                log.piece(data)
                received.append(data)
            log.finish()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream")]})
        for data in received:
            await send({"type": "http.response.body", "body": echo_transform(data), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


app = make_app(uploads=EchoWaits())
SELECT = ("upload.*", "echo.*")
CAUGHT_BY = {"echo.duplex", "echo.backpressure"}
