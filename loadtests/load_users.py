"""The load suite's users. Select them by name (``locust -f loadtests SlowReader FastClient``) or
through a ``--profile``.

* ``StalledReader`` opens a large stream and reads nothing (4 KiB ``SO_RCVBUF``, raw gevent socket).
* ``SlowReader`` reads a large stream at a fixed small rate (``--slow-rate-kib``), verifying every byte.
* ``Aborter`` reads a paced stream and leaves at a random chunk (FIN or RST); measures per-chunk delay.
* ``SseSubscriber`` holds a long SSE subscription; measures each event's inter-arrival minus the
  requested interval, and checks ids and data.
* ``FastClient`` makes small requests (``/health``, a 4 KiB ``/stream``): its latency is the victim
  metric, named ``[baseline]`` during the first ``--baseline`` seconds (only fast clients run then:
  every other user waits) and ``[mix]`` after.

Why per-event rows (``events.request.fire``) instead of one row per stream: at ``-t`` end locust
kills users mid-stream, and a row reported only at a stream's end would be lost.

Row kinds (request_type): ``TTFB`` time to first response byte; ``CHUNK``/``SSE`` per-chunk/per-event
delay; ``BYTES`` bytes verified against the contract; ``LOSS`` failures by kind (corrupt, truncated,
lost events, bad status), whose response_length is the bytes lost.
"""

from __future__ import annotations

import random
import time
from urllib.parse import urlsplit

import gevent
import h11
from locust import FastHttpUser, User, constant, constant_pacing, task
from locust.runners import STATE_INIT, STATE_SPAWNING

from _profiles import PHASE
from _wire import BodyChecker, RawStream, StreamClosed
from streamspec.contract import StreamPlan
from streamspec.sse import expected_data

KiB = 1024
MiB = 1024 * KiB
REPORT_EVERY = 2.0  # seconds between a long stream's progress rows


def phase_start() -> float:
    return PHASE["start"] or time.perf_counter()


def in_baseline(options) -> bool:
    return time.perf_counter() - phase_start() < options.baseline


class StreamUser(User):
    """Base of the raw-socket users: host/port, the options, reporting helpers."""

    abstract = True
    wait_time = constant(0)

    def on_start(self) -> None:
        self.opts = self.environment.parsed_options
        parts = urlsplit(self.host)
        self.addr = (parts.hostname, parts.port or 80)
        remaining = self.opts.baseline - (time.perf_counter() - phase_start())
        if remaining > 0:
            gevent.sleep(remaining)  # the baseline phase belongs to the fast clients alone

    def fire(self, kind: str, name: str, ms: float | None = None, length: int = 0,
             exception: Exception | None = None) -> None:
        self.environment.events.request.fire(request_type=kind, name=name, response_time=ms,
                                             response_length=length, exception=exception, context={})

    def big_plan(self) -> StreamPlan:
        chunk = int(self.opts.chunk_kib * KiB)
        return StreamPlan(sizes=(chunk,) * max(1, int(self.opts.stream_mib * MiB // chunk)))

    def open(self, plan: StreamPlan, rcvbuf: int | None, path: str = "/stream", headers=()) -> RawStream:
        conn = RawStream(*self.addr, rcvbuf=rcvbuf)
        conn.send_get(f"{path}?{plan.query()}" if isinstance(plan, StreamPlan) else plan, headers)
        return conn

    def report_check(self, name: str, check: BodyChecker, last: int, ended: bool, closed: str = "") -> int:
        """Rows for bytes verified since ``last``; a LOSS row for corruption or truncation."""
        self.fire("BYTES", name, None, check.received - last)
        if check.corrupt:
            self.fire("LOSS", f"corrupt ({name})", None, check.corrupt,
                      ValueError(f"{check.corrupt} bytes differ from the contract"))
            check.corrupt = 0
        if closed or (ended and check.missing):
            self.fire("LOSS", f"truncated ({name})", None, check.missing,
                      StreamClosed(closed or f"clean end {check.missing} bytes short"))
        return check.received


class StalledReader(StreamUser):
    """Opens a large stream and reads nothing: only the kernel buffers and the server's own buffering
    hold the bytes. Reports time to first byte (seen with poll, not read) and the status (peeked)."""

    @task
    def stall(self) -> None:
        plan = self.big_plan()
        conn = self.open(plan, rcvbuf=4 * KiB)
        try:
            ttfb = conn.wait_first_byte()
            status = conn.peek_status()
            self.fire("TTFB", "StalledReader", ttfb * 1000, 0,
                      None if status == 200 else ValueError(f"status {status}"))
            hold = self.opts.stall_seconds or 10 ** 6
            t0 = time.perf_counter()
            gevent.sleep(hold)
            self.fire("STALL", "stalled stream held", (time.perf_counter() - t0) * 1000)
        finally:
            conn.close(reset=True)


class SlowReader(StreamUser):
    """Reads a large stream at ``--slow-rate-kib`` (16 KiB ``SO_RCVBUF``, 4 KiB reads), verifying every
    byte; the server's producer must follow this rate instead of running ahead."""

    @task
    def read_slowly(self) -> None:
        plan = self.big_plan()
        check = BodyChecker(plan)
        rate = self.opts.slow_rate_kib * KiB
        conn = self.open(plan, rcvbuf=16 * KiB)
        reported, next_report, closed = 0, time.perf_counter() + REPORT_EVERY, ""
        try:
            self.fire("TTFB", "SlowReader", conn.wait_first_byte() * 1000)
            t0 = time.perf_counter()
            while not conn.ended:
                try:
                    events = conn.events(recv_size=4 * KiB)
                except StreamClosed as exc:
                    closed = str(exc)
                    break
                for event in events:
                    if isinstance(event, h11.Data):
                        check.feed(event.data)
                    elif isinstance(event, h11.Response) and event.status_code != 200:
                        closed = f"status {event.status_code}"
                if closed:
                    break
                ahead = check.received / rate - (time.perf_counter() - t0)
                if ahead > 0:
                    gevent.sleep(ahead)
                if time.perf_counter() >= next_report:
                    reported = self.report_check("SlowReader", check, reported, False)
                    next_report += REPORT_EVERY
            self.report_check("SlowReader", check, reported, conn.ended, closed)
        finally:
            conn.close(reset=True)


class Aborter(StreamUser):
    """Reads a paced stream (200 x 4 KiB, 50 ms apart) at full speed and leaves at a random chunk,
    half the time with FIN, half with RST. Per-chunk delay = inter-arrival minus the pacing."""

    wait_time = constant_pacing(0.2)
    DELAY_MS = 50

    @task
    def leave_midway(self) -> None:
        plan = StreamPlan(sizes=(4 * KiB,) * 200, delay_ms=self.DELAY_MS)
        leave_at = random.randint(1, plan.chunk_count - 1)
        check, chunks, prev, closed = BodyChecker(plan), 0, None, ""
        conn = self.open(plan, rcvbuf=None)
        try:
            self.fire("TTFB", "Aborter", conn.wait_first_byte() * 1000)
            while chunks < leave_at and not conn.ended:
                try:
                    events = conn.events()
                except StreamClosed as exc:
                    closed = str(exc)
                    break
                for event in events:
                    if isinstance(event, h11.Data):
                        if event.chunk_start:
                            now = time.perf_counter()
                            if prev is not None:
                                self.fire("CHUNK", "/stream per-chunk delay",
                                          max(0.0, (now - prev) * 1000 - self.DELAY_MS), len(event.data))
                            prev, chunks = now, chunks + 1
                        check.feed(event.data)
            self.report_check("Aborter", check, 0, conn.ended, closed)
        finally:
            conn.close(reset=random.random() < 0.5)


class SseSubscriber(StreamUser):
    """A long SSE subscription (``--sse-interval`` ms, ``--sse-events`` events, payload ``plain``).
    Each event: per-event delay = inter-arrival minus the interval; the id must be the next one and the
    data the contract's; a gap in ids is a LOSS row."""

    def _delay_row(self) -> str:
        """``... [steady]`` once every user has been spawned: a capacity figure must not be the
        spawning's (thousands of connects at once), so the two are kept apart; the gate merges both."""
        runner = self.environment.runner
        steady = runner is not None and runner.state not in (STATE_INIT, STATE_SPAWNING)
        return "/sse per-event delay [steady]" if steady else "/sse per-event delay [spawning]"

    @task
    def subscribe(self) -> None:
        interval, count = self.opts.sse_interval, self.opts.sse_events
        conn = RawStream(*self.addr)
        conn.send_get(f"/sse?n={count}&interval={interval:g}&payload=plain")
        expect, prev, buf, fields = 1, None, b"", {}
        try:
            self.fire("TTFB", "SseSubscriber", conn.wait_first_byte() * 1000)
            while not conn.ended:
                try:
                    events = conn.events()
                except StreamClosed as exc:
                    self.fire("LOSS", "sse truncated", None, count - expect + 1, exc)
                    return
                for event in events:
                    if isinstance(event, h11.Response) and event.status_code != 200:
                        self.fire("LOSS", "sse bad status", None, 0, ValueError(f"status {event.status_code}"))
                        return
                    if not isinstance(event, h11.Data):
                        continue
                    buf += event.data
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        if line:
                            key, _, value = line.decode().partition(":")
                            fields[key] = fields.get(key, "") + ("\n" if key in fields else "") + value.lstrip(" ")
                            continue
                        if "id" not in fields:
                            fields = {}
                            continue
                        now, got = time.perf_counter(), int(fields["id"])
                        if prev is not None:
                            self.fire("SSE", self._delay_row(), max(0.0, (now - prev) * 1000 - interval),
                                      len(fields.get("data", "")))
                        if got != expect:
                            self.fire("LOSS", "sse lost events", None, got - expect,
                                      ValueError(f"event {got} arrived, {expect} expected"))
                        elif fields.get("data") != expected_data("plain", got):
                            self.fire("LOSS", "sse corrupt event", None, 1, ValueError(f"event {got} data"))
                        prev, expect, fields = now, got + 1, {}
        finally:
            conn.close()


class FastClient(FastHttpUser):
    """Small requests whose latency must not suffer from the slow population."""

    wait_time = constant_pacing(0.25)
    SMALL = StreamPlan(sizes=(1024,) * 4)
    BODY = SMALL.expected_body()

    def phase(self) -> str:
        return "baseline" if in_baseline(self.environment.parsed_options) else "mix"

    @task(2)
    def health(self) -> None:
        with self.client.get("/health", name=f"fast /health [{self.phase()}]", catch_response=True) as r:
            if r.status_code != 200 or r.content != b"ok\n":
                r.failure(f"status {r.status_code}, body {r.content[:20]!r}")

    @task(1)
    def small_stream(self) -> None:
        with self.client.get(self.SMALL.target(), name=f"fast /stream 4KiB [{self.phase()}]",
                             catch_response=True) as r:
            if r.status_code != 200 or r.content != self.BODY:
                r.failure(f"status {r.status_code}, {len(r.content or b'')} bytes, body differs from contract")
