"""Broken: sends only the first read of the object's body (assumes one read returns everything) under the
store's Content-Length: objects above one read are cut short."""

import reference.objects as O
from reference.app import make_app


async def object_body(stream, declared):
    try:
        data = await stream.read(1024)
        if data:
            yield data
    finally:
        stream.close()


O.object_body = object_body
app = make_app()
SELECT = "objects.get"
CAUGHT_BY = {"objects.get"}
