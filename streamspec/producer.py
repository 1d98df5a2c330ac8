"""The shared producer: the async generator every server streams, recording its life to the probe.

Adapters differ only in how their framework carries these chunks to the wire; the producer itself
is the same code everywhere, so a difference in verdict is the framework's, not the scenario's.

Errors: with ``raise_as=exception`` (default) the producer raises a plain ``ProducerError``; with
``raise_as=http`` it raises the *framework's own* HTTP error type, built by the ``http_error`` factory
the adapter passes to ``open_stream`` (``web.HTTPServiceUnavailable``, ``SanicException``,
``HTTPException``...), with status ``HTTP_ERROR_STATUS`` (503). Before the head that error must give a
complete 503; after it, the same visible truncation as any other error.
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable

from .contract import HTTP_ERROR_STATUS, StreamPlan
from .probe import PROBE, ProbeRecord, ProducerLife


class ProducerError(RuntimeError):
    """Raised on purpose by the producer (``raise_after`` / ``fail_start``)."""


class HttpError(Exception):
    """The default ``http_error`` type, for servers with no HTTP error type of their own (the raw-ASGI
    reference maps it to a response with ``status`` before the head)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


#: ``http_error(status, message)`` builds the exception a framework's handlers raise for an HTTP error.
HttpErrorFactory = Callable[[int, str], BaseException]


def make_error(plan: StreamPlan, message: str, http_error: HttpErrorFactory | None) -> BaseException:
    """The exception the plan asks for: a plain ProducerError, or the framework's HTTP error (503)."""
    if plan.raise_as == "http":
        return (http_error or HttpError)(HTTP_ERROR_STATUS, message)
    return ProducerError(message)


def open_stream(plan: StreamPlan, http_error: HttpErrorFactory | None = None) -> AsyncIterator[bytes]:
    """Check the plan's start-up and return its producer.

    Raises *before* any response is started when the plan says ``fail_start=1``: a server must then
    answer a complete 500 (or the HTTP error's 503 with ``raise_as=http``). Call it before starting the
    response. ``http_error`` is the adapter's factory for its framework's HTTP error type.
    """
    if plan.fail_start:
        PROBE.record(plan.request_id).add("fail_start", raise_as=plan.raise_as)
        raise make_error(plan, "producer failed before the response started (fail_start=1)", http_error)
    return produce(plan, PROBE.record(plan.request_id), http_error)


async def produce(plan: StreamPlan, record: ProbeRecord,
                  http_error: HttpErrorFactory | None = None) -> AsyncIterator[bytes]:
    """Yield the plan's chunks, waiting ``delay_ms`` before each one.

    Probe events: ``start``; with ``hold=1``, ``held`` then ``released`` (``PROBE.held``); ``chunk`` (index,
    size) just before each yield; then one of ``done``,
    ``error`` (raise_after), ``cancelled`` (the consuming task was cancelled while we awaited),
    ``closed`` (aclose() at a yield); and always ``cleanup`` from the ``finally`` block last.
    """
    delay = plan.delay_ms / 1000.0
    with ProducerLife(record):
        if plan.hold:
            await PROBE.held(record)
        for index in range(plan.chunk_count):
            if delay:
                await asyncio.sleep(delay)
            if plan.raise_after is not None and index == plan.raise_after:
                record.add("error", index=index, raise_as=plan.raise_as)
                raise make_error(plan, f"producer raised before chunk {index} (raise_after={index})",
                                 http_error)
            data = plan.chunk(index)
            record.add("chunk", index=index, size=len(data))
            yield data
