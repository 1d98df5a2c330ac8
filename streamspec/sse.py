"""The Server-Sent Events scenario: what ``GET /sse`` sends, as data both server and client share.

Query parameters (all optional):

=============  ================================================================================
``id``         request id for the probe
``n``          events in the whole sequence, with ids 1..n (default 5)
``interval``   milliseconds before each event (default 0)
``payload``    ``plain`` | ``multiline`` | ``cr`` | ``crlf`` | ``unicode`` | ``mixed`` (cycles the
               others): what each event's data contains
``event``      an event name sent as ``event:`` on every event (default: none, i.e. "message")
``retry``      milliseconds sent once as ``retry:`` before the first event
``keepalive``  milliseconds between ``: keep-alive`` comments while waiting for the next event
``close_after``  end this response (cleanly) after k events; a client reconnects and resumes
=============  ================================================================================

Resume: the ``Last-Event-ID`` request header (an integer k) makes the stream continue with event k+1.
When nothing is left (k >= n) the answer is ``204 No Content``, which tells a browser to stop
reconnecting (WHATWG HTML 9.2.3).

Framing written by ``encode_event``: LF line ends only; each line of the data (split at CR, LF or
CRLF, which are all line ends to an SSE parser) becomes its own ``data:`` line, so what a spec-exact
parser delivers is ``expected_data(i)``: the payload with every line break turned into LF.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import AsyncIterator, Mapping

from .contract import PlanError
from .probe import PROBE, ProbeRecord, ProducerLife

PAYLOADS = ("plain", "multiline", "cr", "crlf", "unicode")
KEEPALIVE = ": keep-alive\n\n"
HEADERS = (
    ("content-type", "text/event-stream"),
    ("cache-control", "no-cache"),
    ("x-accel-buffering", "no"),
)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def raw_payload(kind: str, event_id: int) -> str:
    """The text an application wants to send as event ``event_id``'s data (before framing)."""
    if kind == "mixed":
        kind = PAYLOADS[event_id % len(PAYLOADS)]
    return {
        "plain": f"event {event_id}",
        "multiline": f"first line of {event_id}\nsecond line\n\nafter an empty line",
        "cr": f"cr-separated {event_id}\rsecond part",
        "crlf": f"crlf-separated {event_id}\r\nsecond part",
        "unicode": f"ünïcödé {event_id} — 日本語 🚀",
    }[kind]


def expected_data(kind: str, event_id: int) -> str:
    """What a WHATWG-exact parser must deliver as ``event.data`` for that event."""
    return "\n".join(_LINE_BREAK.split(raw_payload(kind, event_id)))


def encode_event(event_id: int, data: str, event: str | None = None) -> str:
    """One event block: optional ``event:``, one ``data:`` line per data line, ``id:``, blank line."""
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in _LINE_BREAK.split(data)]
    lines.append(f"id: {event_id}")
    return "\n".join(lines) + "\n\n"


def encode_retry(ms: int) -> str:
    return f"retry: {ms}\n\n"


@dataclass(frozen=True)
class SsePlan:
    request_id: str = ""
    count: int = 5
    interval_ms: float = 0.0
    payload: str = "plain"
    event: str | None = None
    retry_ms: int | None = None
    keepalive_ms: float = 0.0
    close_after: int | None = None
    last_id: int = 0  # from the Last-Event-ID header

    @classmethod
    def from_request(cls, query: Mapping[str, str], last_event_id: str | None) -> "SsePlan":
        try:
            plan = cls(
                request_id=query.get("id", ""),
                count=int(query.get("n", 5)),
                interval_ms=float(query.get("interval", 0)),
                payload=query.get("payload", "plain"),
                event=query.get("event") or None,
                retry_ms=int(query["retry"]) if "retry" in query else None,
                keepalive_ms=float(query.get("keepalive", 0)),
                close_after=int(query["close_after"]) if "close_after" in query else None,
                last_id=_parse_last_id(last_event_id),
            )
        except ValueError as exc:
            raise PlanError(f"bad sse parameter: {exc}") from None
        if plan.payload not in (*PAYLOADS, "mixed"):
            raise PlanError(f"payload must be one of {', '.join((*PAYLOADS, 'mixed'))}")
        if plan.count < 0 or plan.count > 100_000 or plan.interval_ms < 0 or plan.keepalive_ms < 0:
            raise PlanError("n must be 0..100000; interval and keepalive must not be negative")
        return plan

    @property
    def exhausted(self) -> bool:
        """Nothing left after Last-Event-ID: the answer is 204 (stop reconnecting)."""
        return self.last_id >= self.count

    def ids(self) -> range:
        """Event ids this response sends."""
        end = self.count if self.close_after is None else min(self.count, self.last_id + self.close_after)
        return range(self.last_id + 1, end + 1)

    def event_block(self, event_id: int) -> str:
        return encode_event(event_id, raw_payload(self.payload, event_id), self.event)


def _parse_last_id(value: str | None) -> int:
    if value is None or not value.strip():
        return 0
    try:
        return max(0, int(value.strip()))
    except ValueError:
        return 0  # an id we never sent: start from the beginning


async def produce_events(plan: SsePlan, record: ProbeRecord | None = None) -> AsyncIterator[str]:
    """Yield the response's text blocks: ``retry:`` first if asked, keep-alive comments while waiting,
    then each event. Probe events: ``start``, ``event`` (id), ``keepalive``, then ``done`` /
    ``cancelled`` / ``closed``, and ``cleanup`` last, as the byte stream producer does."""
    record = record or PROBE.record(plan.request_id)
    with ProducerLife(record, last_id=plan.last_id):
        if plan.retry_ms is not None:
            yield encode_retry(plan.retry_ms)
        for event_id in plan.ids():
            async for comment in _wait(plan, record):
                yield comment
            record.add("event", event=event_id)
            yield plan.event_block(event_id)


async def _wait(plan: SsePlan, record: ProbeRecord) -> AsyncIterator[str]:
    """Sleep ``interval_ms``, yielding a keep-alive comment every ``keepalive_ms`` meanwhile."""
    remaining = plan.interval_ms / 1000.0
    step = plan.keepalive_ms / 1000.0
    while remaining > 0:
        if step and step < remaining:
            await asyncio.sleep(step)
            remaining -= step
            record.add("keepalive")
            yield KEEPALIVE
        else:
            await asyncio.sleep(remaining)
            remaining = 0
