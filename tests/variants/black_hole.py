"""Broken: accepts every request and never answers (a deadlocked handler). Only ``/probe`` works, so the
suite can start it and ask the probe; ``/stream``, ``/sse``, ``/health`` and the downloads hang forever.

The whole run must end within about 1.1 s per case with every case failed and none passed
(tests/test_teeth.py checks both): no case may wait longer than it needs, none may pass because
nothing was sent."""

import asyncio

from reference.app import make_app


async def never(scope, receive, send):
    await asyncio.Event().wait()


app = make_app(routes={"/stream": never, "/sse": never, "/health": never,
                          "/file/": never, "/file-stream/": never,
                          "/object/": never, "/upload": never, "/echo": never})
SILENT = True  # every case must fail; the run must be quick
CAUGHT_BY = "*"
