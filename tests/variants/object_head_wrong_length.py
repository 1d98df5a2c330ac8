"""Broken: HEAD of an object declares ``Content-Length: 0``, not the object's size."""

from reference.app import StreamHandler, make_app
from reference.objects import ObjectRoute


class Route(ObjectRoute):
    async def __call__(self, scope, receive, send):
        if scope["method"] == "HEAD":
            async def zero(message):
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [(k, b"0" if k == b"content-length" else v)
                                                       for k, v in message["headers"]]}
                await send(message)
            return await super().__call__(scope, receive, zero)
        await super().__call__(scope, receive, send)


app = make_app(objects=Route(StreamHandler()))
SELECT = ("objects.head", "objects.get")
CAUGHT_BY = {"objects.head"}
