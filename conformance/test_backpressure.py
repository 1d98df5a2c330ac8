"""Slow and stalled readers: production must follow consumption (ASGI HTTP spec: ``send`` is awaited,
which is where a server applies flow control), and the server must stay responsive. Every case runs
under chunked coding and under a declared length, and checks every byte it reads."""

from __future__ import annotations

import time

from streamspec.contract import StreamPlan

from . import bounds
from .cases import case, precondition
from .helpers import ms, new_id, require_complete, require_intact, require_status, start_stream
from .probe_client import ProbeUnanswered

MiB = 1024 * 1024
# Loopback kernel buffers absorb ~4 MiB per connection (tcp_wmem max) before an application's write
# blocks; a server may add its own bounded buffer. 16 MiB is far above that and far below a stream
# produced without flow control.
LEAD_BOUND = 16 * MiB
SMALL_RCVBUF = 4096
SLOW_READ_CAP_S = 60.0  # the whole slow read, however loaded the machine (about 1.5 s when it is not)
#: backpressure.loop-responsive: 2 s of 4 KiB chunks at 20 ms before the stalling ones. With 1 s, a framework
#: slow to take up 20 requests under load (falcon, three suites at once on 2 cores) had every producer past
#: its paced part before the probe, small request and probe after it were answered: precondition not met.
PACED_CHUNKS = 100
STALL_QUIET_S = 0.3  # no chunk from any of the streams for this long: each producer is held (or finished)
SMALL_REQUEST_ATTEMPTS = 3  # small requests in backpressure.loop-responsive before it fails (noise vs blocking)
BUSY_CAP_S = 20.0  # loop-responsive: how long past a phase's deadline a busy server's probe is asked again


def _plan(framing: str, prefix: str, sizes: tuple[int, ...], delay_ms: float = 0) -> StreamPlan:
    return StreamPlan(request_id=new_id(prefix), sizes=sizes, delay_ms=delay_ms,
                      content_length=framing == "length")


@case("backpressure.stalled-reader", "MUST", "ASGI HTTP spec 'send' (awaitable: flow control)", framed=True)
def test_stalled_reader_lead_is_bounded(target, figures, framing):
    """A client that stops reading (4 KiB receive buffer) a 64 MiB stream: the producer's lead over the
    bytes the client received stays bounded (at most 16 MiB) instead of producing the whole stream
    into memory. The producer must be held short of the end (that is the requirement itself)."""
    plan = _plan(framing, "stall", (MiB,) * 64)
    conn, ex = start_stream(target, plan, rcvbuf=SMALL_RCVBUF)
    require_status(ex)
    view = target.probe.wait_stable(plan.request_id, quiet=0.5, timeout=8.0)
    require_intact(ex)
    produced = view.produced_bytes if view else 0
    lead = produced - ex.body_length
    figures.update(lead_bytes=lead, produced_bytes=produced, received_bytes=ex.body_length)
    conn.abort_rst()
    assert view is not None and view.chunks, "the producer made no chunk for a client that had not read yet"
    assert lead <= LEAD_BOUND, (f"the producer ran {lead / MiB:.1f} MiB ahead of a stalled reader "
                                f"(bound {LEAD_BOUND // MiB} MiB): no backpressure")


@case("backpressure.slow-reader", "MUST", "ASGI HTTP spec 'send' (awaitable: flow control)", framed=True)
def test_production_follows_slow_reader(target, figures, framing):
    """A client reading at about 20 MiB/s a 20 MiB stream of 256 KiB chunks, to the end: production
    follows consumption. At every sample the producer is at most 16 MiB ahead of what the client has
    read, it is held short of the end while the client is still reading (so the stream really was
    paced), and every byte of the body arrives intact, properly ended."""
    # 20 MiB: above the 16 MiB lead bound, so a server that buffers the whole stream fails it at once
    plan = _plan(framing, "slow", (256 * 1024,) * 80)
    conn, ex = start_stream(target, plan, rcvbuf=16384)
    require_status(ex)
    rate = 20 * MiB  # bytes per second the client aims for; a loaded machine may read slower, which is fine
    step = 0.02
    samples = []  # (client time, received, produced)
    t0 = time.monotonic()
    next_sample = t0
    # The loop ends with the body. Its only limits are real ones: nothing arriving for BODY_S (the server
    # stopped sending), or SLOW_READ_CAP_S in all (a server trickling bytes), never the nominal rate.
    while ex.ending == "open" and time.monotonic() - t0 < SLOW_READ_CAP_S:
        before = ex.body_length
        conn.read_body(max_bytes=int(rate * step), timeout=bounds.BODY_S, recv_size=65536)
        now = time.monotonic()
        if ex.body_length == before and ex.ending == "open":
            break  # nothing for BODY_S
        if now >= next_sample and ex.ending == "open":
            view = target.probe.record(plan.request_id)
            samples.append((now, ex.body_length, view.produced_bytes if view else 0))
            next_sample = now + 0.15
        time.sleep(max(0.0, step - (time.monotonic() - now)))
    leads = [p - r for _, r, p in samples]
    held = [s for s in samples if s[2] < plan.total]
    half = samples[len(samples) // 2:] or samples
    (ta, ra, pa), (tb, rb, pb) = (half[0], half[-1]) if half else ((0, 0, 0), (0, 0, 0))
    figures.update(
        max_lead_bytes=max(leads) if leads else None, samples=len(samples), samples_held=len(held),
        consumption_rate_mib_s=round((rb - ra) / (tb - ta) / MiB, 2) if tb > ta else None,
        production_rate_mib_s=round((pb - pa) / (tb - ta) / MiB, 2) if tb > ta else None,
        received_bytes=ex.body_length, read_s=round(time.monotonic() - t0, 2),
    )
    conn.abort_rst()
    require_intact(ex)
    assert samples and max(leads) <= LEAD_BOUND, (
        f"the producer ran {max(leads, default=0) / MiB:.1f} MiB ahead of a slow reader (bound "
        f"{LEAD_BOUND // MiB} MiB); production {figures['production_rate_mib_s']} MiB/s vs consumption "
        f"{figures['consumption_rate_mib_s']} MiB/s")
    assert held, (f"the producer had made the whole {plan.total // MiB} MiB at every sample while the client "
                  "was still reading: production did not follow consumption")
    assert ex.ending != "open", (
        f"the body stopped after {ex.body_length} of {plan.total} bytes: nothing more arrived within "
        f"{bounds.BODY_S:.0f} s (or the whole read took over {SLOW_READ_CAP_S:.0f} s)")
    require_complete(ex)
    assert ex.body_length == plan.total, f"got {ex.body_length} of {plan.total} bytes"


def _small_request(target) -> tuple[float | None, object]:
    """One ``GET /health`` on a new connection: (seconds to the complete answer or None, the exchange)."""
    t0 = time.monotonic()
    health = target.connect()
    ex = health.send_request("GET", "/health")
    health.read_response(timeout=bounds.HEAD_S)
    health.close()
    if ex.ending == "complete":
        require_status(ex)
        assert ex.body == b"ok\n", f"/health answered {ex.body[:40]!r}, expected b'ok\\n'"
        return ex.t_end - t0, ex
    return None, ex


def _group(target, group: str) -> dict:
    """The probe's answer for the 20 streams; a probe that does not answer in time is the case's failure:
    the probe is served by the same loop as everything else."""
    try:
        return target.probe.group(group)
    except ProbeUnanswered as exc:
        raise ProbeUnanswered(f"{exc}, while 20 streams were open to readers that stopped reading") from None


def _poll_group(target, group: str, done, deadline: float, poll: float) -> dict:
    """The probe's answer for the 20 streams, polled until ``done(answer)`` or ``deadline``; the last
    answer either way. A probe request unanswered within its 5 s is made again while the deadline allows,
    or, past it, for up to ``BUSY_CAP_S`` more while the server keeps a CPU busy (``Target.busy_since``):
    a server that has no backpressure takes up to 480 MiB into its buffers here, and on a loaded machine
    (the matrix runs 12 parts on 2 cores) Daphne did not answer this probe for 5 s in one matrix run and
    for 10 s in the next, while a small request made during the paced part was answered in 10 and 13 ms.
    A loop that waits on nothing fails at the deadline; one that spins fails at the cap."""
    hard_cap = deadline + BUSY_CAP_S
    while True:
        cpu = target.server_cpu()
        try:
            counts = _group(target, group)
        except ProbeUnanswered:
            now = time.monotonic()
            if now < deadline or (target.busy_since(cpu, target.probe.timeout) and now < hard_cap):
                continue
            raise
        if done(counts) or time.monotonic() >= deadline:
            return counts
        time.sleep(poll)


def _judge(latencies: list[float | None], while_: str) -> None:
    answered = [x for x in latencies if x is not None]
    shown = ", ".join(f"{x:.2f} s" if x is not None else f"no answer within {bounds.HEAD_S:.0f} s"
                      for x in latencies)
    assert answered and min(answered) <= 1.0, (
        f"{len(latencies)} small requests on new connections, one after another, {while_}: {shown} "
        "(bound 1 s for at least one)")


@case("backpressure.loop-responsive", "MUST", "ASGI HTTP spec 'send' (awaitable: flow control)", framed=True)
def test_server_responsive_with_stalled_streams(target, figures, framing):
    """20 streams to readers that stopped reading; a small request on a new connection is answered within
    1 s (at least one of three made one after another: a blocked server stays blocked, a loaded machine
    is slow once) twice: while their producers are running, and once the streams are stalled. Neither
    the work of producing nor waiting for slow clients may block the server. Each stream is 2 s of
    paced 4 KiB chunks (far below any socket's buffers, so nothing holds them), then 24 MiB in 4 MiB
    chunks (one fills a socket's buffers). Preconditions, from the probe: the first small request counts
    only if every producer had made a chunk before it and one at least was still paced after it; the
    second is made only after every producer started and none made a chunk for 0.3 s (each held by
    backpressure, or finished into the server's buffers when it has none: at most 480 MiB in all). A
    server that does not take up all 20 requests, or does not answer its probe, fails."""
    conns = []
    group = new_id("loop")  # the 20 streams share this id prefix: the probe answers for them in one request
    sizes = (4096,) * PACED_CHUNKS + (4 * MiB,) * 6
    for i in range(20):
        plan = StreamPlan(request_id=f"{group}-{i}", sizes=sizes, delay_ms=20, content_length=framing == "length")
        conn = target.connect(rcvbuf=SMALL_RCVBUF)
        conn.send_request("GET", plan.target(), plan=plan)
        conns.append(conn)
    take_up_s = bounds.PRODUCER_START_S + 6.0
    counts = _poll_group(target, group, lambda c: c["records"] == 20 and c["fewest_chunks"] >= 1,
                         time.monotonic() + take_up_s, poll=0.02)
    figures["streams_started"] = counts["records"]
    assert counts["records"] == 20 and counts["fewest_chunks"] >= 1, (
        f"{counts['records']} of the 20 streams' producers started ({counts['fewest_chunks']} chunks from the "
        f"slowest) within {take_up_s:.0f} s of their requests: the server did not take up every request")
    # While producing: an attempt counts if producers were running throughout it: every one had made a chunk
    # at the probe answer before it, and at least one was still in its paced part at the answer after. (All
    # 20 still paced after it was too strict: a server that took over a second to take up the 20 requests
    # on a loaded machine left no such moment, seen once in a matrix run.)
    producing: list[float | None] = []
    before = counts  # the take-up loop's last answer: every producer had made a chunk
    for _ in range(SMALL_REQUEST_ATTEMPTS):
        latency, _ = _small_request(target)
        after = _group(target, group)
        if not (before["fewest_chunks"] >= 1 and after["fewest_chunks"] < PACED_CHUNKS):
            break
        producing.append(latency)
        if latency is not None and latency <= 1.0:
            break
        before = after
    figures["while_producing_ms"] = [ms(x) if x is not None else None for x in producing]
    precondition(producing, "every producer had finished its 2 s paced part before a small request could be "
                            "made beside them")
    _judge(producing, "while 20 producers were running")
    # Stalled: wait until production has settled, then measure again.
    counts = _poll_group(target, group, lambda c: (c.get("quiet_s") or 0.0) >= STALL_QUIET_S,
                         time.monotonic() + take_up_s, poll=0.05)
    figures.update(streams_finished=counts.get("finished"), production_quiet_s=counts.get("quiet_s"))
    precondition((counts.get("quiet_s") or 0.0) >= STALL_QUIET_S,
                 f"the 20 streams never settled: a producer made a chunk {counts.get('quiet_s')} s before the "
                 f"last probe answer, {take_up_s:.0f} s after the paced part (wanted {STALL_QUIET_S} s with none)")
    stalled: list[float | None] = []
    for _ in range(SMALL_REQUEST_ATTEMPTS):
        latency, _ = _small_request(target)
        stalled.append(latency)
        if latency is not None and latency <= 1.0:
            break
    answered = [x for x in stalled if x is not None]
    figures["small_request_latency_ms"] = ms(min(answered)) if answered else None
    figures["small_request_attempts_ms"] = [ms(x) if x is not None else None for x in stalled]
    for conn in conns:
        conn.abort_rst()
    _judge(stalled, "while 20 streams were stalled")
