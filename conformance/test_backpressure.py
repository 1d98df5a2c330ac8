"""Slow and stalled readers: production must follow consumption (ASGI HTTP spec: ``send`` is awaited,
which is where a server applies flow control), and the server must stay responsive."""

from __future__ import annotations

import time

from streamspec.contract import StreamPlan

from .cases import case
from .helpers import ms, new_id, start_stream

MiB = 1024 * 1024
# Loopback kernel buffers absorb ~4 MiB per connection (tcp_wmem max) before an application's write
# blocks; a server may add its own bounded buffer. 16 MiB is far above that and far below a stream
# produced without flow control.
LEAD_BOUND = 16 * MiB
SMALL_RCVBUF = 4096


@case("backpressure.stalled-reader", "MUST", "ASGI HTTP spec 'send' (awaitable: flow control)")
def test_stalled_reader_lead_is_bounded(target, figures):
    """A client that stops reading (4 KiB receive buffer) a 64 MiB stream: the producer's lead over the
    bytes the client received stays bounded (at most 16 MiB) instead of producing the whole stream
    into memory."""
    plan = StreamPlan(request_id=new_id("stall"), sizes=(MiB,) * 64)
    conn, ex = start_stream(target, plan, rcvbuf=SMALL_RCVBUF)
    assert ex.status == 200, f"status {ex.status} ({ex.ending}: {ex.error})"
    view = target.probe.wait_stable(plan.request_id, quiet=0.5, timeout=8.0)
    produced = view.produced_bytes if view else 0
    lead = produced - ex.body_length
    figures.update(lead_bytes=lead, produced_bytes=produced, received_bytes=ex.body_length)
    conn.abort_rst()
    assert lead <= LEAD_BOUND, (f"the producer ran {lead / MiB:.1f} MiB ahead of a stalled reader "
                                f"(bound {LEAD_BOUND // MiB} MiB): no backpressure")


@case("backpressure.slow-reader", "MUST", "ASGI HTTP spec 'send' (awaitable: flow control)")
def test_production_follows_slow_reader(target, figures):
    """A client reading at about 4 MiB/s from a 32 MiB stream: production follows consumption. At every
    sample the producer is at most 16 MiB ahead of what the client has read; the production rate in the
    second half is reported next to the consumption rate."""
    plan = StreamPlan(request_id=new_id("slow"), sizes=(256 * 1024,) * 128)
    conn, ex = start_stream(target, plan, rcvbuf=16384)
    assert ex.status == 200, f"status {ex.status} ({ex.ending}: {ex.error})"
    rate = 4 * MiB  # bytes per second
    step = 0.02
    samples = []  # (client time, received, produced)
    t0 = time.monotonic()
    next_sample = t0
    while time.monotonic() - t0 < 2.5 and ex.ending == "open":
        budget = int(rate * step)
        conn.read_body(max_bytes=budget, timeout=2.0, recv_size=16384)
        now = time.monotonic()
        if now >= next_sample:
            view = target.probe.record(plan.request_id)
            samples.append((now, ex.body_length, view.produced_bytes if view else 0))
            next_sample = now + 0.25
        time.sleep(max(0.0, step - (time.monotonic() - now)))
    conn.abort_rst()
    leads = [p - r for _, r, p in samples]
    half = samples[len(samples) // 2:]
    (ta, ra, pa), (tb, rb, pb) = half[0], half[-1]
    figures.update(
        max_lead_bytes=max(leads),
        consumption_rate_mib_s=round((rb - ra) / (tb - ta) / MiB, 2) if tb > ta else None,
        production_rate_mib_s=round((pb - pa) / (tb - ta) / MiB, 2) if tb > ta else None,
        samples=len(samples),
    )
    assert max(leads) <= LEAD_BOUND, (
        f"the producer ran {max(leads) / MiB:.1f} MiB ahead of a slow reader (bound {LEAD_BOUND // MiB} "
        f"MiB); production {figures['production_rate_mib_s']} MiB/s vs consumption "
        f"{figures['consumption_rate_mib_s']} MiB/s")


@case("backpressure.loop-responsive", "MUST", "ASGI HTTP spec 'send' (awaitable: flow control)")
def test_server_responsive_with_stalled_streams(target, figures):
    """While 20 streams are stalled by readers that stopped reading, a small request on a new
    connection is still answered within 1 s: waiting for slow clients does not block the server."""
    conns = []
    ids = []
    for _ in range(20):
        plan = StreamPlan(request_id=new_id("loop"), sizes=(256 * 1024,) * 256, delay_ms=20)
        conn = target.connect(timeout=10.0, rcvbuf=SMALL_RCVBUF)
        conn.send_request("GET", plan.target())
        conns.append(conn)
        ids.append(plan.request_id)
    time.sleep(0.5)  # let the producers start and run into the full buffers
    t0 = time.monotonic()
    health = target.connect(timeout=10.0)
    ex = health.send_request("GET", "/health")
    health.read_response(timeout=10.0)
    latency = (ex.t_end or time.monotonic()) - t0
    figures["small_request_latency_ms"] = ms(latency)
    for conn in conns:
        conn.abort_rst()
    assert ex.ending == "complete" and ex.status == 200, f"/health failed ({ex.ending}: {ex.error})"
    assert latency <= 1.0, f"a small request took {latency:.2f}s while 20 streams were stalled (bound 1 s)"
