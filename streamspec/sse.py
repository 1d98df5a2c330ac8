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
``hold``       ``1``: before anything else the producer waits (at most 10 s) for the client's
               ``GET /probe?id=release:<id>`` (``streamspec.probe``)
=============  ================================================================================

Resume: the ``Last-Event-ID`` request header (an integer k) makes the stream continue with event k+1.
When nothing is left (k >= n) the answer is ``204 No Content``, which tells a browser to stop
reconnecting (WHATWG HTML 9.2.3).

The producer yields *logical* items (``SseEvent``, ``SseRetry``, ``SseKeepAlive``); each adapter frames
them with its framework's own SSE API and keep-alive mechanism where it has one, so the framework's
framing is what the suite judges. Framing written by ``encode`` (for servers without an SSE API): LF line ends only; each line of the data (split at CR, LF or
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
    hold: bool = False  # wait for the client's release before the first event (streamspec.probe)
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
                hold=query.get("hold", "0") == "1",
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

    @property
    def keepalive_s(self) -> float | None:
        """The keep-alive interval a framework's own ping mechanism is configured to (None: not asked)."""
        return self.keepalive_ms / 1000.0 if self.keepalive_ms else None

    def event_item(self, event_id: int) -> "SseEvent":
        return SseEvent(event_id, raw_payload(self.payload, event_id), self.event)

    def event_block(self, event_id: int) -> str:
        return encode(self.event_item(event_id))


def _parse_last_id(value: str | None) -> int:
    if value is None or not value.strip():
        return 0
    try:
        return max(0, int(value.strip()))
    except ValueError:
        return 0  # an id we never sent: start from the beginning


@dataclass(frozen=True)
class SseEvent:
    """One logical event: the adapter frames it with its framework's SSE API (``id``, ``event``,
    ``data``). ``data`` is the raw payload and may hold LF, CR and CRLF line breaks."""

    id: int
    data: str
    event: str | None = None


@dataclass(frozen=True)
class SseRetry:
    """A ``retry:`` item (reconnection time in ms). It carries no data: it must dispatch no event."""

    ms: int


@dataclass(frozen=True)
class SseKeepAlive:
    """A keep-alive tick: the plan's ``keepalive`` interval passed while idle. Adapters whose framework
    has its own ping mechanism ask for no ticks (``keepalive_ticks=False``) and configure that mechanism
    to ``SsePlan.keepalive_s`` instead; the others send a comment line."""


SseItem = SseEvent | SseRetry | SseKeepAlive


def encode(item: SseItem) -> str:
    """Framing for servers with no SSE API of their own (the reference, Sanic, socketify, Nexios):
    LF line ends, one ``data:`` line per data line, keep-alives as comment lines."""
    if isinstance(item, SseEvent):
        return encode_event(item.id, item.data, item.event)
    if isinstance(item, SseRetry):
        return encode_retry(item.ms)
    return KEEPALIVE


async def produce_events(plan: SsePlan, record: ProbeRecord | None = None,
                         keepalive_ticks: bool = True) -> AsyncIterator[SseItem]:
    """Yield the response's logical items: ``SseRetry`` first if asked, ``SseKeepAlive`` ticks while
    waiting (unless ``keepalive_ticks=False``: the framework pings by itself), then each ``SseEvent``.

    Probe events: ``start``, ``held``/``released`` (``hold=1``), ``retry``, ``event`` (id), ``keepalive``
    (a tick handed to the adapter), then ``done`` / ``cancelled`` / ``closed``, and ``cleanup`` last, as
    the byte stream producer does.
    """
    record = record or PROBE.record(plan.request_id)
    with ProducerLife(record, last_id=plan.last_id, keepalive_ticks=keepalive_ticks):
        if plan.hold:
            await PROBE.held(record)
        if plan.retry_ms is not None:
            record.add("retry", ms=plan.retry_ms)
            yield SseRetry(plan.retry_ms)
        for event_id in plan.ids():
            async for tick in _wait(plan, record, keepalive_ticks):
                yield tick
            record.add("event", event=event_id)
            yield plan.event_item(event_id)


async def produce_text(plan: SsePlan, record: ProbeRecord | None = None) -> AsyncIterator[str]:
    """``produce_events`` framed by ``encode``: the text blocks of a server with no SSE API."""
    items = produce_events(plan, record)
    try:
        async for item in items:
            yield encode(item)
    finally:
        await items.aclose()


async def _wait(plan: SsePlan, record: ProbeRecord, ticks: bool) -> AsyncIterator[SseKeepAlive]:
    """Sleep ``interval_ms``, yielding a keep-alive tick every ``keepalive_ms`` meanwhile."""
    remaining = plan.interval_ms / 1000.0
    step = plan.keepalive_ms / 1000.0 if ticks else 0.0
    while remaining > 0:
        if step and step < remaining:
            await asyncio.sleep(step)
            remaining -= step
            record.add("keepalive")
            yield SseKeepAlive()
        else:
            await asyncio.sleep(remaining)
            remaining = 0
