"""Broken: sends a 200 response head (chunked) for ``/stream``, ``/sse``, ``/health`` and the downloads, and
then nothing, ever (a handler stuck after ``http.response.start``). Only ``/probe`` works.

Like ``black_hole``: the whole run ends within about 1.1 s per case (tests/test_teeth.py) with every case failed and none passed."""

import asyncio

from reference.app import make_app


async def head_only(scope, receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream" if scope["path"] == "/sse"
                             else b"application/octet-stream")]})
    await asyncio.Event().wait()


app = make_app(routes={"/stream": head_only, "/sse": head_only, "/health": head_only,
                          "/file/": head_only, "/file-stream/": head_only,
                          "/object/": head_only, "/upload": head_only, "/echo": head_only})
SILENT = True
CAUGHT_BY = "*"
