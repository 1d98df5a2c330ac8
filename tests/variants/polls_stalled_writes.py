"""Broken: while any write waits for a client that stopped reading, the server checks on it with a
blocking call ("is it writable yet?", a ``select`` with a timeout, a sync driver's "wait until ready")
once per turn of its event loop: 0.7 s of ``time.sleep`` per turn instead of awaiting the transport's
drain.

Every request it takes up costs at least two turns (accept and read, then answer), so at least 1.4 s,
however many streams are stalled. ``backpressure.loop-responsive`` measures twice: while its 20 producers
run their paced part (no write waits yet: this server is fast there) and after the streams have settled
(every write waits): there every small request takes 1.4 s or more, and the case fails at its 1 s bound.
(An earlier form of the case made its small requests 0.3 s after the 20th stream began; once in CI no
write was waiting yet at that moment and the variant passed. The case now proves from the probe that
the streams had settled first.)

Served by uvicorn only: it reads uvicorn's own flow-control state (``send.__self__.flow``).
"""

import asyncio
import time

from reference.app import StreamHandler, make_app

BLOCK_S = 0.7
_waiting: set[int] = set()  # writes waiting for a stalled client
_blocking = False


def _block_this_turn() -> None:
    """Runs once per loop turn while any write waits: the blocking check."""
    global _blocking
    if not _waiting:
        _blocking = False
        return
    time.sleep(BLOCK_S)
    asyncio.get_running_loop().call_soon(_block_this_turn)


class PollsStalledWrites(StreamHandler):
    async def write(self, send, data: bytes) -> None:
        global _blocking
        cycle = getattr(send, "__self__", None)
        flow = getattr(cycle, "flow", None)
        if flow is None:
            raise RuntimeError("polls_stalled_writes needs uvicorn's send (send.__self__.flow)")
        await super().write(send, data)
        if not (flow.write_paused and not cycle.disconnected):
            return
        _waiting.add(id(cycle))
        try:
            if not _blocking:
                _blocking = True
                asyncio.get_running_loop().call_soon(_block_this_turn)
            while flow.write_paused and not cycle.disconnected:
                await asyncio.sleep(0.01)
        finally:
            _waiting.discard(id(cycle))


app = make_app(PollsStalledWrites())
SELECT = "backpressure.loop-responsive.*"
CAUGHT_BY = {"backpressure.loop-responsive.chunked", "backpressure.loop-responsive.length"}
