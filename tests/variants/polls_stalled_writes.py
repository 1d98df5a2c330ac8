"""Broken: a write to a client that stopped reading waits in a blocking poll ("is it writable yet?",
60 ms of ``time.sleep`` per look, then one turn of the loop) instead of awaiting the transport's drain.

One stalled stream costs the server 60 ms of every loop turn; 20 cost it 1.2 s (and ten 0.6 s: not every
stream is paused at every moment), and a small request, which needs two or three turns (accept, read,
answer), waits seconds for its answer although the server still takes up new requests. The shape of a hand-written flow control over a blocking check (a
``select`` with a timeout, a sync driver's "wait until ready"); this variant is what makes
``backpressure.loop-responsive`` fail at its latency bound rather than at its precondition.

Served by uvicorn only: it reads uvicorn's own flow-control state (``send.__self__.flow``).
"""

import asyncio
import time

from reference.app import StreamHandler, make_app

POLL_S = 0.06


class PollsStalledWrites(StreamHandler):
    async def write(self, send, data: bytes) -> None:
        cycle = getattr(send, "__self__", None)
        flow = getattr(cycle, "flow", None)
        if flow is None:
            raise RuntimeError("polls_stalled_writes needs uvicorn's send (send.__self__.flow)")
        await super().write(send, data)
        while flow.write_paused and not cycle.disconnected:
            time.sleep(POLL_S)
            await asyncio.sleep(0)


app = make_app(PollsStalledWrites())
SELECT = "backpressure.loop-responsive.*"
CAUGHT_BY = {"backpressure.loop-responsive.chunked", "backpressure.loop-responsive.length"}
