"""Server-Sent Events over ``GET /sse`` (WHATWG HTML §9.2): headers, framing as a spec-exact parser reads
it, per-event flush, keep-alive comments, ``Last-Event-ID`` resume, 204 when nothing is left, and a
client that leaves while the stream is idle.

Timing judgements are orderings against the probe's production times (with the clock-sync error), or
ratios with generous bounds: the suite runs on shared, noisy machines.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from streamspec.sse import expected_data

from . import bounds
from .cases import case, precondition
from .helpers import head_while_held, ms, new_id, require_status
from .sse_parser import Event, EventStreamParser
from .test_chunking import follow_up
from .timing import judge_flush
from .wire import Exchange, WireConnection


def sse_url(**params) -> str:
    return "/sse?" + urlencode({k: v for k, v in params.items() if v is not None})


@dataclass
class SseReader:
    """One ``/sse`` request on a wire connection, parsed as it arrives; each item keeps its arrival."""

    conn: WireConnection
    ex: Exchange
    parser: EventStreamParser = field(default_factory=EventStreamParser)
    timeline: list[tuple[float, str, object]] = field(default_factory=list)  # (t, kind, value)
    _fed: int = 0

    @classmethod
    def open(cls, target, url: str, headers=(), first_wait: float = 0.0) -> "SseReader":
        """Send the request and read the head (within ``bounds.HEAD_S`` plus ``first_wait``, the time
        before the first event, for servers that hold the head until the first body bytes)."""
        conn = target.connect()
        ex = conn.send_request("GET", url, list(headers), body_limit=bounds.SSE_BODY_LIMIT)
        conn.read_head(bounds.HEAD_S + first_wait)
        return cls(conn, ex)

    @property
    def events(self) -> list[Event]:
        return [v for _, k, v in self.timeline if k == "event"]

    def of(self, kind: str) -> list[tuple[float, object]]:
        return [(t, v) for t, k, v in self.timeline if k == kind]

    def _feed_new(self) -> None:
        for piece in self.ex.pieces[self._fed:]:
            before = len(self.parser.log)
            self.parser.feed(piece.data)
            self.timeline += [(piece.t, kind, value) for kind, value in self.parser.log[before:]]
        self._fed = len(self.ex.pieces)

    def read_events(self, count: int, timeout: float = bounds.BODY_S) -> list[Event]:
        """Read until ``count`` events were dispatched in all, the response ended, or the timeout."""
        deadline = time.monotonic() + timeout
        self._feed_new()  # what arrived with the head
        while len(self.events) < count and self.ex.ending == "open" and time.monotonic() < deadline:
            self.conn.read_body(max_bytes=1, timeout=max(0.01, deadline - time.monotonic()))
            self._feed_new()
        return self.events

    def read_all(self, timeout: float = bounds.BODY_S) -> list[Event]:
        if self.ex.ending == "open":
            self.conn.read_body(timeout=timeout)
        self._feed_new()
        self.parser.close()
        return self.events

    def require_events(self, expected: list[Event], complete: bool = True) -> None:
        """The head said 200, the stream ended as framed (when ``complete``), and the events parsed are
        exactly ``expected``: every field of every event checked."""
        require_status(self.ex)
        if complete:
            assert self.ex.ending == "complete", (
                f"the event stream did not end properly ({self.ex.ending}: {self.ex.error}) after "
                f"{len(self.events)} events")
        got = self.events
        wrong = [(i, g, w) for i, (g, w) in enumerate(zip(got, expected)) if g != w]
        assert not wrong and len(got) == len(expected), (
            f"{len(got)} events parsed, {len(expected)} expected; {len(wrong)} differ; first difference: "
            f"{wrong[0][1:] if wrong else (got[len(expected):len(expected) + 1] or expected[len(got):len(got) + 1])}")


def expected_events(ids, payload: str = "plain", event: str | None = None) -> list[Event]:
    """What a spec-exact parser must dispatch for these event ids of the contract."""
    return [Event(event or "message", expected_data(payload, i), str(i)) for i in ids]


def media_type(ex: Exchange) -> str:
    return (ex.header("content-type") or "").split(";")[0].strip().lower()


def ids_of(events: list[Event]) -> list[str]:
    return [e.last_event_id for e in events]


# -- headers --------------------------------------------------------------------------------------
@case("sse.content-type", "MUST", "WHATWG HTML §9.2.3 Processing model; §9.2.5", requires=("sse",))
def test_content_type(target, figures):
    """"if res's status is not 200, or if res's `Content-Type` is not `text/event-stream`, then fail
    the connection": the stream is answered 200 with media type ``text/event-stream`` (parameters
    allowed), and without ``Content-Length`` (an event stream is open-ended; a length means the server
    collected the whole stream first)."""
    reader = SseReader.open(target, sse_url(id=new_id("ssect"), n=2))
    reader.read_all()
    ex = reader.ex
    figures.update(status=ex.status, content_type=ex.header("content-type"),
                   content_length=ex.header("content-length"), transfer_encoding=ex.header("transfer-encoding"))
    require_status(ex)
    assert media_type(ex) == "text/event-stream", f"Content-Type {ex.header('content-type')!r}"
    assert ex.header("content-length") is None, f"Content-Length {ex.header('content-length')} on an event stream"
    reader.require_events(expected_events([1, 2]))


@case("sse.no-cache", "SHOULD", "WHATWG HTML §9.2.3 (EventSource fetches with cache mode \"no-store\")",
      requires=("sse",))
def test_no_cache(target, figures):
    """"Set request's cache mode to "no-store"": a browser never wants a stored copy of an event
    stream, and neither should any cache between it and the server; the response says so with
    ``Cache-Control: no-cache`` (or ``no-store``)."""
    reader = SseReader.open(target, sse_url(id=new_id("ssecache"), n=1))
    reader.read_all()
    value = reader.ex.header("cache-control")
    figures["cache_control"] = value
    reader.require_events(expected_events([1]))
    tokens = {t.strip().lower() for t in (value or "").split(",")}
    assert tokens & {"no-cache", "no-store"}, f"Cache-Control {value!r}: caches may store the event stream"


@case("sse.identity-encoding", "SHOULD",
      "WHATWG HTML §9.2.7 Authoring notes (a layer unaware of the timing requirements)", requires=("sse",))
def test_not_compressed(target, figures):
    """"HTTP chunking can have unexpected negative effects on the reliability of this protocol, in
    particular if the chunking is done by a different layer unaware of the timing requirements": so is
    compression, which holds bytes back until its block fills. Even when the request says
    ``Accept-Encoding: gzip, deflate, br`` the stream is sent uncompressed and parses as sent."""
    reader = SseReader.open(target, sse_url(id=new_id("ssegz"), n=3),
                            headers=[("Accept-Encoding", "gzip, deflate, br")])
    reader.read_all()
    encoding = reader.ex.header("content-encoding")
    figures["content_encoding"] = encoding
    require_status(reader.ex)
    assert (encoding or "identity").strip().lower() == "identity", f"Content-Encoding {encoding!r} on an event stream"
    reader.require_events(expected_events([1, 2, 3]))


# -- timing ---------------------------------------------------------------------------------------
@case("sse.flush-per-event", "MUST", "WHATWG HTML §9.2.1; ASGI HTTP 'Response Body'", requires=("sse",))
def test_flush_per_event(target, figures):
    """"To enable servers to push data to web pages over HTTP": each event reaches the client promptly
    and on its own, so a page sees it when it happens, not in batches. Six events 300 ms apart, judged by
    ``conformance/timing.py``: at least two arrive within 50 ms of production (probe), at most two later
    than half the gap, and at most two consecutive pairs less than half a gap apart (coalesced)."""
    request_id = new_id("sseflush")
    n, gap = 6, 0.3
    reader = SseReader.open(target, sse_url(id=request_id, n=n, interval=int(gap * 1000)), first_wait=gap)
    reader.read_all(timeout=bounds.BODY_S + n * gap)
    reader.require_events(expected_events(range(1, n + 1)))
    view = target.probe.record(request_id)
    precondition(view is not None and len(view.of("event")) == n, "the probe does not show every event produced")
    produced = {e["event"]: e["t"] for e in view.of("event")}
    arrived = {int(ev.last_event_id): t for t, ev in reader.of("event")}
    judge_flush(figures, [arrived.get(i) for i in range(1, n + 1)], [produced.get(i) for i in range(1, n + 1)],
                gap, target.probe.error, "event")


@case("sse.headers-first", "SHOULD", "WHATWG HTML §9.2.3 'announce the connection'", requires=("sse",))
def test_headers_before_first_event(target, figures):
    """"When a user agent is to announce the connection, the user agent must queue a task which ...
    sets the readyState attribute to OPEN and fires an event named open": that happens on the
    response head, so the head must not wait for the first event. The producer is held before event 1
    until the client has seen the head (or waited ``bounds.HEAD_S``): an ordering, not a timing."""
    request_id = new_id("ssehead")
    conn = target.connect()
    ex = conn.send_request("GET", sse_url(id=request_id, n=1, hold=1), body_limit=bounds.SSE_BODY_LIMIT)
    head_first, _ = head_while_held(target, conn, ex, request_id, "event")
    figures["head_before_first_event"] = head_first
    figures["head_ms"] = ms(ex.t_headers - ex.t_sent) if ex.t_headers else None
    require_status(ex)
    reader = SseReader(conn, ex)
    reader.read_all()
    reader.require_events(expected_events([1]))
    assert head_first, (
        f"no response head within {bounds.HEAD_S:g} s while the producer was waiting to produce event 1; "
        f"it came {ms(ex.t_headers - ex.t_sent)} ms after the request, once event 1 was let go: the server "
        "held the response head back until the body started")


@case("sse.keepalive-comments", "MUST", "WHATWG HTML §9.2.6 (comment lines); §9.2.7 Authoring notes",
      requires=("sse",))
def test_keepalive_comments(target, figures):
    """"If the line starts with a U+003A COLON character (:) Ignore the line." and "authors can include a
    comment line (one starting with a ':' character) every 15 seconds or so": with 1 s between events
    and a 200 ms keep-alive, comments arrive while the stream is idle (before event 1 is produced), at
    about that spacing, and are never dispatched as events. Judged on the wire: a framework's own ping
    mechanism (configured to the interval) counts the same as keep-alives the application writes."""
    request_id = new_id("ssekeep")
    interval, keepalive = 1.0, 0.2
    reader = SseReader.open(target, sse_url(id=request_id, n=2, interval=int(interval * 1000),
                                            keepalive=int(keepalive * 1000)), first_wait=interval)
    reader.read_all(timeout=bounds.BODY_S + 2 * interval)
    reader.require_events(expected_events([1, 2]))
    view = target.probe.record(request_id)
    precondition(view is not None and view.first("event") is not None, "the probe does not show event 1 produced")
    comments = [t for t, _ in reader.of("comment")]
    first_event = view.first("event")["t"]
    idle_first = [t for t in comments if t < first_event - target.probe.error]
    gaps = [b - a for a, b in zip(comments, comments[1:]) if b - a < interval]  # within an idle period
    figures.update(events=len(reader.events), comments=len(comments), comments_before_event_1=len(idle_first),
                   keepalive_ticks_produced=len(view.of("keepalive")),
                   comment_gap_median_ms=ms(statistics.median(gaps)) if gaps else None)
    expected_each = int(interval / keepalive) - 1  # comments that fit strictly inside one idle period
    assert len(idle_first) >= expected_each - 2, (
        f"{len(idle_first)} keep-alive comments arrived during the first {interval} s idle period (expected about "
        f"{expected_each} at {ms(keepalive)} ms spacing); {len(comments)} in all")
    ratio = statistics.median(gaps) / keepalive if gaps else 0.0
    figures["comment_gap_ratio"] = round(ratio, 2)
    assert 0.5 <= ratio <= 2.0, (f"keep-alive comments arrived {ratio:.2f}x the chosen interval apart "
                                 f"(median gap {figures['comment_gap_median_ms']} ms, interval {ms(keepalive)} ms)")


# -- content --------------------------------------------------------------------------------------
@case("sse.framing", "MUST", "WHATWG HTML §9.2.5 Parsing an event stream; §9.2.6", requires=("sse",))
def test_framing(target, figures):
    """"Lines must be separated by either a U+000D CARRIAGE RETURN U+000A LINE FEED (CRLF) character
    pair, a single U+000A LINE FEED (LF) character, or a single U+000D CARRIAGE RETURN (CR)
    character", and "Event streams in this format must always be encoded as UTF-8": events whose data
    holds LF, CR and CRLF line breaks, empty lines and non-ASCII text, with an ``event:`` name, reach a
    spec-exact parser with exactly that data (every break an LF), that type, and ids 1..n."""
    n = 10
    reader = SseReader.open(target, sse_url(id=new_id("sseframe"), n=n, payload="mixed", event="tick"))
    events = reader.read_all()
    figures.update(events=len(events), body_bytes=reader.ex.body_length)
    reader.require_events(expected_events(range(1, n + 1), "mixed", "tick"))


@case("sse.retry", "MUST", "WHATWG HTML §9.2.6 Interpreting an event stream ('retry' field)",
      requires=("sse",))
def test_retry_field(target, figures):
    """"If the field value consists of only ASCII digits, then interpret the field value as an integer
    in base ten, and set the event stream's reconnection time to that integer. Otherwise, ignore the
    field.": ``retry=2500`` reaches the parser as reconnection time 2500, before the first event, and
    the retry item (which carries no data) dispatches no event of its own: exactly event 1 arrives."""
    reader = SseReader.open(target, sse_url(id=new_id("sseretry"), n=1, retry=2500))
    reader.read_all()
    kinds = [kind for kind, _ in reader.parser.log]
    figures.update(retries=reader.parser.retries, order=kinds)
    require_status(reader.ex)
    assert len(reader.events) == 1, (
        f"{len(reader.events)} events dispatched for one event and a retry item: {reader.events[:3]}; a retry "
        "field alone must not dispatch an event")
    reader.require_events(expected_events([1]))
    assert reader.parser.retries == [2500], (
        f"reconnection times parsed: {reader.parser.retries} (expected [2500]); raw head "
        f"{bytes(reader.ex.raw_head)[-120:]!r}")
    assert kinds.index("retry") < kinds.index("event"), "the retry field came after the first event"


# -- resume ---------------------------------------------------------------------------------------
@case("sse.resume", "MUST", "WHATWG HTML §9.2.4 The `Last-Event-ID` header", requires=("sse",))
def test_resume_after_drop(target, figures):
    """"The `Last-Event-ID` HTTP request header reports an EventSource object's last event ID string to
    the server when the user agent is to reestablish the connection": a client that read events 1..3,
    dropped the connection and reconnects with ``Last-Event-ID: 3`` gets exactly 4..8: no loss, no
    duplicate."""
    n, k = 8, 3
    first_id = new_id("sseres1")
    first = SseReader.open(target, sse_url(id=first_id, n=n, interval=100), first_wait=0.1)
    require_status(first.ex)
    got = first.read_events(k)
    assert ids_of(got[:k]) == [str(i) for i in range(1, k + 1)], f"first connection: {ids_of(got)}"
    last_seen = got[k - 1].last_event_id  # the client stops after event k, whatever else arrived
    first.conn.abort_fin()
    second_id = new_id("sseres2")
    second = SseReader.open(target, sse_url(id=second_id, n=n, interval=100),
                            headers=[("Last-Event-ID", last_seen)], first_wait=0.1)
    rest = second.read_all(timeout=bounds.BODY_S + n * 0.1)
    view = target.probe.record(second_id)
    start = view.first("start") if view else None
    figures.update(first_ids=ids_of(got[:k]), resumed_ids=ids_of(rest),
                   server_last_id=start.get("last_id") if start else None)
    require_status(second.ex)
    assert ids_of(rest) == [str(i) for i in range(k + 1, n + 1)], (
        f"after Last-Event-ID: {last_seen} the stream sent ids {ids_of(rest)}, expected {k + 1}..{n}")
    second.require_events(expected_events(range(k + 1, n + 1)))


@case("sse.exhausted-204", "MUST", "WHATWG HTML §9.2.1; §9.2.3 Processing model", requires=("sse",))
def test_nothing_left_is_204(target, figures):
    """"Clients will reconnect if the connection is closed; a client can be told to stop reconnecting
    using the HTTP 204 No Content response code": a reconnect with ``Last-Event-ID: 4`` to a 4-event
    stream (and with an id past the end) is answered 204 with no body. "A 204 response cannot contain
    content" (RFC 9110 §15.3.5): the connection is then reused, and the next request on it must get
    exactly its own answer."""
    statuses = {}
    for last in ("4", "9"):
        conn = target.connect()
        ex = conn.send_request("GET", sse_url(id=new_id("sse204"), n=4), [("Last-Event-ID", last)],
                               body_limit=bounds.SSE_BODY_LIMIT)
        conn.read_response(bounds.HEAD_S)
        statuses[last] = ex.status
        require_status(ex, 204)
        assert ex.body_length == 0, f"a 204 carried {ex.body_length} body bytes"
        follow_up(conn, ex, figures)
    figures["statuses"] = statuses


# -- leaving --------------------------------------------------------------------------------------
@case("sse.idle-disconnect", "MUST", "WHATWG HTML §9.2.2 close(); ASGI HTTP 'Disconnect - receive event'",
      requires=("sse",))
def test_idle_disconnect(target, figures):
    """"The close() method must abort any instances of the fetch algorithm started for this EventSource
    object": a client that goes away while the stream is idle (30 s to the next event, no keep-alive)
    is noticed without waiting for the next write: the producer's cleanup runs within 2 s."""
    request_id = new_id("sseidle")
    conn = target.connect()
    conn.send_request("GET", sse_url(id=request_id, n=3, interval=30_000), body_limit=bounds.SSE_BODY_LIMIT)
    started = target.probe.wait_for(request_id, "start", bounds.PRODUCER_START_S)
    assert started and started.first("start"), (
        f"the SSE producer never started within {bounds.PRODUCER_START_S:.0f} s of the request")
    time.sleep(0.2)  # let the server settle into the idle wait
    t_abort = conn.abort_fin()
    view = target.probe.wait_for(request_id, "cleanup", bounds.CLEANUP_S + bounds.CLEANUP_GRACE_S)
    cleanup = view.cleanup_time if view else None
    figures["cleanup_latency_ms"] = ms(cleanup - t_abort) if cleanup else None
    figures["ended_by"] = [e["kind"] for e in view.events if e["kind"] in ("cancelled", "closed", "done")] if view else []
    precondition(view is not None and not [e for e in view.of("event") if e["t"] <= t_abort + target.probe.error],
                 "the SSE producer was to be idle when the client left, but had produced an event")
    assert cleanup is not None, (f"the SSE producer's cleanup did not run within "
                                 f"{bounds.CLEANUP_S + bounds.CLEANUP_GRACE_S:g}s "
                                 "of the client leaving an idle stream")
    assert cleanup - t_abort <= bounds.CLEANUP_S, (
        f"cleanup ran {cleanup - t_abort:.2f}s after the client left (bound {bounds.CLEANUP_S}s)")
