"""Broken: the producer waits with a blocking call (a sync call inside async code: a database driver, a
``requests.get``) that takes at least 100 ms, so every stream that is still producing blocks the whole
event loop. (With the plan's own 20 ms the loop is blocked only part of the time and a small request may
slip through within the case's 1 s bound: the variant must be unambiguous, not lucky.) Twenty producers
blocking in turn make the server so slow that ``backpressure.loop-responsive`` fails before its small
requests: the server does not take up its 20 streams within the bound, or does not answer the probe.

The shared producer is reused; only its ``asyncio.sleep`` is swapped for ``time.sleep`` in this server
process.
"""

import asyncio
import time
import types

import streamspec.producer as producer_module
from reference.app import app  # noqa: F401


async def _blocking_sleep(seconds):
    time.sleep(max(seconds, 0.1))


producer_module.asyncio = types.SimpleNamespace(sleep=_blocking_sleep, CancelledError=asyncio.CancelledError)

# Only the loop case: with a blocked loop, every other timing case fails too, which says nothing new.
SELECT = "backpressure.loop-responsive.*"
CAUGHT_BY = {"backpressure.loop-responsive.chunked", "backpressure.loop-responsive.length"}
