"""Broken: an object body the client leaves is never closed (parked in a list): its pooled store
connection stays, with the rest of the object waiting unread in it."""

import reference.objects as O
from reference.app import make_app

PARKED = []


async def object_body(stream, declared):
    done = False
    try:
        while True:
            data = await stream.read(O.READ_SIZE)
            if not data:
                break
            yield data
        done = True
    finally:
        if done:
            stream.close()
        else:
            PARKED.append(stream)


O.object_body = object_body
app = make_app()
SELECT = "objects.abort*"
CAUGHT_BY = {"objects.abort", "objects.abort-many"}
