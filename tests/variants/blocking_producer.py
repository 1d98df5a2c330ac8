"""Broken: the producer waits with a blocking sleep (a sync call inside async code), so every stream
that is still producing blocks the whole event loop.

The shared producer is reused; only its ``asyncio.sleep`` is swapped for ``time.sleep`` in this server
process.
"""

import asyncio
import time
import types

import streamspec.producer as producer_module
from reference.app import app  # noqa: F401


async def _blocking_sleep(seconds):
    time.sleep(seconds)


producer_module.asyncio = types.SimpleNamespace(sleep=_blocking_sleep, CancelledError=asyncio.CancelledError)

# Only the loop case: with a blocked loop, every other timing case fails too, which says nothing new.
SELECT = "backpressure.loop-responsive.*"
CAUGHT_BY = {"backpressure.loop-responsive.chunked", "backpressure.loop-responsive.length"}
