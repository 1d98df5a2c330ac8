"""Clients that leave mid-stream: the producer must be stopped and cleaned up (ASGI HTTP spec,
``http.disconnect``)."""

from __future__ import annotations

import time

from streamspec.contract import StreamPlan

from .cases import case
from .helpers import ms, new_id, start_stream

CLEANUP_BOUND = 2.0  # seconds from the client leaving to the producer's finally block
FIRST_DATA_WAIT = 5.0  # seconds to wait for the chunks read before leaving (a correct server: ~0.1 s)


def _abort_and_wait(target, figures, how: str, plan: StreamPlan, read_chunks: int):
    if read_chunks:
        conn, ex = start_stream(target, plan, timeout=FIRST_DATA_WAIT)
        assert ex.status == 200, f"status {ex.status} ({ex.ending}: {ex.error})"
        conn.read_body(max_bytes=sum(plan.size_of(i) for i in range(read_chunks)), timeout=FIRST_DATA_WAIT)
    else:
        # Judge disconnect detection alone: do not depend on the server sending the head early.
        conn = target.connect()
        conn.send_request("GET", plan.target())
        started = target.probe.wait_for(plan.request_id, "start", 5.0)
        assert started and started.first("start"), "the producer never started"
    t_abort = conn.abort_fin() if how == "fin" else conn.abort_rst()
    view = target.probe.wait_for(plan.request_id, "cleanup", CLEANUP_BOUND + 2.0)
    assert view is not None, "the probe has no record of this request"
    cleanup = view.cleanup_time
    after = [c for c in view.chunks if c["t"] > t_abort + target.probe.error]
    figures["cleanup_latency_ms"] = ms(cleanup - t_abort) if cleanup else None
    figures["chunks_after_abort"] = len(after)
    figures["ended_by"] = [e["kind"] for e in view.events if e["kind"] in ("cancelled", "closed", "done", "error")]
    return view, t_abort, cleanup, after


def _check_cleanup(figures, cleanup, t_abort, after, plan) -> None:
    assert cleanup is not None, (
        f"the producer's cleanup did not run within {CLEANUP_BOUND + 2:.0f}s of the client leaving "
        f"({len(after)} chunks produced after the abort)")
    assert cleanup - t_abort <= CLEANUP_BOUND, (
        f"cleanup ran {cleanup - t_abort:.2f}s after the client left (bound {CLEANUP_BOUND}s)")


@case("abort.fin-cleanup", "MUST", "ASGI HTTP spec 'Disconnect - receive event'")
def test_close_mid_stream_runs_cleanup(target, figures):
    """A client that closes the connection (FIN) mid-stream is noticed: the producer is stopped and its
    cleanup (``finally``) runs within 2 s."""
    plan = StreamPlan(request_id=new_id("fin"), sizes=(1024,) * 400, delay_ms=25)
    _, t_abort, cleanup, after = _abort_and_wait(target, figures, "fin", plan, read_chunks=3)
    _check_cleanup(figures, cleanup, t_abort, after, plan)


@case("abort.rst-cleanup", "MUST", "ASGI HTTP spec 'Disconnect - receive event'")
def test_reset_mid_stream_runs_cleanup(target, figures):
    """A client that resets the connection (RST) mid-stream is noticed: the producer's cleanup runs
    within 2 s."""
    plan = StreamPlan(request_id=new_id("rst"), sizes=(1024,) * 400, delay_ms=25)
    _, t_abort, cleanup, after = _abort_and_wait(target, figures, "rst", plan, read_chunks=3)
    _check_cleanup(figures, cleanup, t_abort, after, plan)


@case("abort.idle", "MUST", "ASGI HTTP spec 'Disconnect - receive event'")
def test_abort_while_producer_idle(target, figures):
    """A client that leaves while the producer is idle (30 s until its next chunk) is noticed without
    waiting for the next write: cleanup runs within 2 s."""
    plan = StreamPlan(request_id=new_id("idle"), sizes=(64,) * 3, delay_ms=30_000)
    _, t_abort, cleanup, after = _abort_and_wait(target, figures, "fin", plan, read_chunks=0)
    _check_cleanup(figures, cleanup, t_abort, after, plan)


@case("abort.stops-producer", "MUST", "ASGI HTTP spec 'Disconnect - receive event'")
def test_producer_stops_after_abort(target, figures):
    """After a client resets a fast stream, the producer makes only a bounded number of further chunks
    (at most 100, i.e. about 0.2 s of production) instead of running to the end."""
    plan = StreamPlan(request_id=new_id("stop"), sizes=(1024,) * 3000, delay_ms=2)
    _, t_abort, cleanup, after = _abort_and_wait(target, figures, "rst", plan, read_chunks=5)
    assert len(after) <= 100, (f"the producer made {len(after)} chunks after the client left "
                               f"(bound 100 of {plan.chunk_count})")
    _check_cleanup(figures, cleanup, t_abort, after, plan)


@case("abort.healthy-after-100", "MUST", "ASGI HTTP spec 'Disconnect - receive event'",
      requires=("local-process",))
def test_healthy_after_many_aborts(target, figures):
    """After 100 streams aborted mid-way (half FIN, half RST): every producer has been cleaned up, a
    normal request still succeeds, and the server holds no more open descriptors than before (+16)."""
    probe = target.probe
    fds_before = target.process.open_fds()
    active_before = probe.summary()["active"]
    conns = []
    for i in range(100):
        plan = StreamPlan(request_id=new_id("many"), sizes=(512,) * 1000, delay_ms=20)
        conn = target.connect(timeout=10.0)
        conn.send_request("GET", plan.target())
        conns.append(conn)
    for i, conn in enumerate(conns):
        conn.read_head(10.0)
        conn.read_body(max_bytes=512, timeout=10.0)
        conn.abort_fin() if i % 2 else conn.abort_rst()
    deadline = time.monotonic() + 5.0
    active = probe.summary()["active"]
    while active > active_before and time.monotonic() < deadline:
        time.sleep(0.05)
        active = probe.summary()["active"]
    health = probe.http.get("/health")
    fds_after = target.process.open_fds()
    figures.update(fds_before=fds_before, fds_after=fds_after, producers_still_running=active - active_before)
    assert health.status_code == 200 and health.text == "ok\n", f"/health answered {health.status_code}"
    assert active <= active_before, f"{active - active_before} of 100 aborted producers are still running after 5 s"
    assert fds_after <= fds_before + 16, f"open descriptors grew from {fds_before} to {fds_after}"


@case("abort.while-backpressured", "MUST", "ASGI HTTP spec 'Disconnect - receive event'")
def test_abort_while_blocked_on_backpressure(target, figures):
    """A client that stopped reading, so that the server is blocked waiting for the transport to drain,
    then resets the connection: the producer's cleanup runs within 2 s, and it stops instead of running
    on through writes the server now discards. The producer never waits by itself (an in-memory export),
    so a server whose blocked ``send`` never wakes leaks it, and one that turns ``send`` into a silent
    no-op lets it race: at most half of the 4096-chunk stream may be produced after the reset."""
    plan = StreamPlan(request_id=new_id("bpabort"), sizes=(64 * 1024,) * 4096)
    conn, ex = start_stream(target, plan, rcvbuf=4096)
    assert ex.status == 200, f"status {ex.status} ({ex.ending}: {ex.error})"
    stalled = target.probe.wait_stable(plan.request_id, quiet=0.5, timeout=8.0)
    produced_before = stalled.produced_bytes if stalled else 0
    t_abort = conn.abort_rst()
    # Stay quiet for the whole bound, then ask once: requests on other connections can wake a server
    # that is stuck (Nexios 3.12.3 is, when nothing else happens), and polling would hide that.
    time.sleep(CLEANUP_BOUND)
    view = target.probe.record(plan.request_id)
    assert view is not None, "the probe has no record of this request"
    after = [c for c in view.chunks if c["t"] > t_abort + target.probe.error]
    cleanup = view.cleanup_time
    figures.update(produced_before_abort=produced_before, chunks_after_abort=len(after),
                   cleanup_latency_ms=ms(cleanup - t_abort) if cleanup else None)
    assert cleanup is not None, (
        f"the producer's cleanup had not run {CLEANUP_BOUND:.0f} s after the client reset a stream that was "
        f"blocked on backpressure ({len(after)} chunks produced after the reset)")
    _check_cleanup(figures, cleanup, t_abort, after, plan)
    assert len(after) <= plan.chunk_count // 2, (
        f"the producer made {len(after)} more chunks ({len(after) / 16:.0f} MiB) after the client reset a "
        f"stream blocked on backpressure (bound {plan.chunk_count // 2})")
