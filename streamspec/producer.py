"""The shared producer: the async generator every server streams, recording its life to the probe.

Adapters differ only in how their framework carries these chunks to the wire; the producer itself
is the same code everywhere, so a difference in verdict is the framework's, not the scenario's.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from .contract import StreamPlan
from .probe import PROBE, ProbeRecord, ProducerLife


class ProducerError(RuntimeError):
    """Raised on purpose by the producer (``raise_after`` / ``fail_start``)."""


def open_stream(plan: StreamPlan) -> AsyncIterator[bytes]:
    """Check the plan's start-up and return its producer.

    Raises ProducerError *before* any response is started when the plan says ``fail_start=1``: a
    server must then answer a complete 500. Call it before starting the response.
    """
    if plan.fail_start:
        PROBE.record(plan.request_id).add("fail_start")
        raise ProducerError("producer failed before the response started (fail_start=1)")
    return produce(plan, PROBE.record(plan.request_id))


async def produce(plan: StreamPlan, record: ProbeRecord) -> AsyncIterator[bytes]:
    """Yield the plan's chunks, waiting ``delay_ms`` before each one.

    Probe events: ``start``; ``chunk`` (index, size) just before each yield; then one of ``done``,
    ``error`` (raise_after), ``cancelled`` (the consuming task was cancelled while we awaited),
    ``closed`` (aclose() at a yield); and always ``cleanup`` from the ``finally`` block last.
    """
    delay = plan.delay_ms / 1000.0
    with ProducerLife(record):
        for index in range(plan.chunk_count):
            if delay:
                await asyncio.sleep(delay)
            if plan.raise_after is not None and index == plan.raise_after:
                record.add("error", index=index)
                raise ProducerError(f"producer raised before chunk {index} (raise_after={index})")
            data = plan.chunk(index)
            record.add("chunk", index=index, size=len(data))
            yield data
