"""Broken: a download the client leaves keeps its file open (the handle is parked instead of closed)."""

import reference.files as F
from reference.app import StreamHandler, make_app

LEAKED = []


async def file_body(fh, pieces):
    done = False
    try:
        for piece in pieces:
            if isinstance(piece, bytes):
                yield piece
            else:
                async for data in F.read_span(fh, *piece):
                    yield data
        done = True
    finally:
        if done:
            fh.close()
        else:
            LEAKED.append(fh)


class Routes(F.FileRoutes):
    async def _serve(self, scope, receive, send, prefix, ranged):
        path = F.resolve(F.name_from(scope, prefix))
        if path is None:
            await F.send_whole(send, 404, b"not found\n")
            return
        await self._answer(scope, receive, send, open(path, "rb"), F.name_from(scope, prefix), ranged)


F.file_body = file_body
app = make_app(files=Routes(StreamHandler()))
SELECT = ("files.abort*", "files.get.*")
CAUGHT_BY = {"files.abort.native", "files.abort.streamed", "files.abort-many.native", "files.abort-many.streamed"}
