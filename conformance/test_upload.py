"""Streamed request bodies: ``POST|PUT /upload`` of the uploads contract (``streamspec.uploads``).

An upload is judged from both ends: the bytes the client wrote (every piece framed by the case, so every
chunk boundary, pause and early end is the case's choice) and the probe's record of what the handler
received, piece by piece, with live counters. The answer's byte count and SHA-256 prove every byte.
"""

from __future__ import annotations

import contextlib
import socket
import time

import h11
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from . import bounds
from .cases import case, precondition
from .download_client import MemoryWatch
from .helpers import new_id
from .upload_client import (BigBody, MiB, Refused, Upload, body_bytes, kinds, upload_answer, upload_record,
                           wait_record)
from .wire import WireTimeout
from streamspec.uploads import UploadPlan, expected_answer

#: the piece a client sends before it pauses (incremental, abort): more than any server's first read
FIRST_PIECE = 64 * 1024
#: private memory a server may gain while it takes a 512 MiB upload (what one piece, the server's read
#: buffers and the allocator's slack need; a server that keeps the body needs 512 MiB)
MEMORY_BOUND = 64 * MiB
BIG_UPLOAD_BLOCKS = 512  # MiB
#: the slow consumer's upload and how far its received bytes may run behind what the client wrote: the
#: kernel's buffers on both sides (the server's receive buffer grows to 6 MiB on Linux) plus the
#: server's own read-ahead; a server that buffers the upload lets the client write all of it at once
SLOW_UPLOAD_BLOCKS = 32  # MiB
SLOW_CONSUME_MS = 5
SLOW_LEAD_BOUND = 12 * MiB


def _plan(prefix: str, **kw) -> UploadPlan:
    return UploadPlan(new_id(prefix), **kw)


def _upload(target, framing: str, plan: UploadPlan, total: int, **kw) -> Upload:
    return Upload(target, plan.target("/upload"), framing, total=total, **kw)


# hypothesis: piece sizes of a body (no shrinking: each example is a request, the failing one is in the
# message as it is)
_pieces = st.lists(st.one_of(st.integers(1, 16), st.integers(1, 70_000), st.sampled_from([4095, 4096, 4097, 65536])),
                   min_size=0, max_size=10)


@case("upload.exact", "MUST", "RFC 9112 §6.3, §7.1 (message body length; chunked coding)", requires=("uploads",),
      framed=True)
def test_upload_exact(target, figures, framing):
    """"The message body length is determined by" the framing, and every byte of it is the request's:
    uploads of generated sizes and piece boundaries (hypothesis, derandomized: the same bodies every run;
    with chunked coding every piece is a chunk of its own) are answered with their exact byte count and
    SHA-256, and the handler's record ends with the same count."""
    seen = []

    @settings(max_examples=12, derandomize=True, deadline=None, database=None, report_multiple_bugs=False,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
    @given(_pieces)
    def check(sizes):
        body = body_bytes(sum(sizes), seed=len(seen))
        plan = _plan("exact")
        up = _upload(target, framing, plan, len(body))
        try:
            up.send_all(body, sizes)
            got = upload_answer(up.answer())
        finally:
            up.close()
        want = expected_answer(body)
        assert got == want, f"pieces {sizes}: the answer is {got}, the body sent was {want}"
        record = upload_record(target, plan.request_id)
        ends = [e for e in record.get("events", []) if e["kind"] == "end"]
        assert ends and ends[0]["bytes"] == len(body), f"pieces {sizes}: the handler's record is {kinds(record)}"
        seen.append(len(body))

    check()
    figures.update(uploads=len(seen), largest=max(seen, default=0))


@case("upload.incremental", "MUST", "RFC 9112 §6 (message body as a stream); ASGI HTTP spec 'receive'",
      requires=("uploads",), framed=True)
def test_upload_incremental(target, figures, framing):
    """The handler sees the body as it arrives: the client sends 64 KiB of a 128 KiB body and pauses; the
    probe must show a piece received by the handler *during the pause* (within 2 s), before the client
    sends the rest. A server that collects the whole body before the handler runs keeps it waiting for
    bytes the client has not sent. The whole body is then answered exactly."""
    body = body_bytes(2 * FIRST_PIECE, seed=11)
    plan = _plan("incr")
    up = _upload(target, framing, plan, len(body))
    try:
        up.send(body[:FIRST_PIECE])
        t_pause = time.monotonic()
        record = wait_record(target, plan.request_id, lambda r: "piece" in kinds(r), bounds.PRODUCER_START_S)
        paused_s = time.monotonic() - t_pause
        figures["first_piece_after_ms"] = round(paused_s * 1000, 1)
        assert "piece" in kinds(record), (
            f"the client sent {FIRST_PIECE} of {len(body)} bytes and paused: within {bounds.PRODUCER_START_S:g} s "
            f"the handler received none of them (its record: {kinds(record) or 'none'}); the server holds the "
            "body back until it is complete")
        first = next(e for e in record["events"] if e["kind"] == "piece")
        assert first["total"] <= FIRST_PIECE, f"the handler's first piece counts {first['total']} bytes before they were sent"
        up.send(body[FIRST_PIECE:])
        up.end()
        got = upload_answer(up.answer())
    finally:
        up.close()
    assert got == expected_answer(body), f"the answer is {got}, the body sent was {expected_answer(body)}"


@contextlib.contextmanager
def size_limit_is_unsupported(total: int):
    """A server that refuses a large upload with 413 applies a request size limit, which RFC 9110 §15.5.14
    allows (Litestar's default is 10 MB, Quart's 16 MiB, Tornado's 100 MB): the case cannot judge how it
    streams such an upload, so it is ``unsupported`` with that said, never passed and never failed. Any
    other early answer or close is a failure, as before."""
    try:
        yield
    except Refused as exc:
        if exc.status != 413:
            raise
        pytest.skip(f"unsupported: the server refused the {total // MiB} MiB upload with 413 (a request size "
                    f"limit; raise it to judge this case): {exc}")


@case("upload.memory", "MUST", "resource limits; ASGI HTTP spec 'receive' (flow control)",
      requires=("uploads", "local-process"), fresh_server=True)
def test_upload_memory(target, figures):
    """A 512 MiB upload (declared length, written as fast as the server takes it) is answered with its
    exact count and SHA-256 while the server's private memory grows by at most 64 MiB: the handler
    consumes the body as a stream, nothing keeps it whole."""
    big = BigBody(BIG_UPLOAD_BLOCKS)
    plan = _plan("bigup")
    watch = MemoryWatch(target)
    t0 = time.monotonic()
    up = _upload(target, "length", plan, big.total)
    try:
        with size_limit_is_unsupported(big.total):
            for i in range(big.blocks):
                up.send(big.block(i))
            got = upload_answer(up.answer(head_s=bounds.BODY_S + 30))
    finally:
        growth = watch.stop()
        up.close()
    seconds = time.monotonic() - t0
    figures.update(memory_growth_mib=round(growth / MiB, 1), upload_mib_s=round(big.total / MiB / seconds, 1))
    want = big.answer()
    assert got == want, f"the answer is {got}, the body sent was {want}"
    assert growth <= MEMORY_BOUND, (f"the server's memory grew {growth / MiB:.0f} MiB while it took a 512 MiB upload "
                                    f"(bound {MEMORY_BOUND // MiB} MiB)")


@case("upload.backpressure", "MUST", "RFC 9112 §9.6 (flow control is TCP's); ASGI HTTP spec 'receive'",
      requires=("uploads",))
def test_upload_backpressure(target, figures):
    """A slow consumer pushes back on the client: the handler waits 5 ms after each piece of a 32 MiB
    upload; the bytes the client has written may run at most 12 MiB ahead of the bytes the handler has
    received (sampled from the probe after every MiB written), so the client's writes block instead of
    the server buffering. Preconditions: the handler waited the 5 ms after each piece (the median gap
    between its pieces in the probe is at least 4 ms: an adapter that ignores ``consume_delay`` is told
    so), and the consumer was really slower than the client (the writes did block, or the lead grew past
    1 MiB)."""
    big = BigBody(SLOW_UPLOAD_BLOCKS)
    plan = _plan("slowup", consume_delay_ms=SLOW_CONSUME_MS)
    up = _upload(target, "length", plan, big.total, sndbuf=64 * 1024)
    leads = []
    try:
        with size_limit_is_unsupported(big.total):
            for i in range(big.blocks):
                up.send(big.block(i))
                record = upload_record(target, plan.request_id)
                leads.append(up.sent - int(record.get("counters", {}).get("bytes", 0)))
            got = upload_answer(up.answer(head_s=bounds.BODY_S + 30))
    finally:
        up.close()
    figures.update(max_lead_mib=round(max(leads) / MiB, 2), client_blocked_s=round(up.blocked, 2))
    # the handler really was slow: it waited consume_delay after each piece (an adapter that ignores the
    # parameter leaves a fast consumer, and a bounded lead would then prove nothing about pushing back)
    times = [e["t"] for e in upload_record(target, plan.request_id).get("events", []) if e["kind"] == "piece"]
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    median_gap_ms = gaps[len(gaps) // 2] * 1000 if gaps else 0.0
    figures.update(median_piece_gap_ms=round(median_gap_ms, 2))
    precondition(median_gap_ms >= 0.8 * SLOW_CONSUME_MS,
                 f"the handler took its pieces {median_gap_ms:.2f} ms apart (median of {len(gaps)} gaps), not the "
                 f"{SLOW_CONSUME_MS} ms consume_delay the plan asked for: the adapter ignores consume_delay")
    precondition(up.blocked > 0.05 or max(leads) > MiB,
                 f"the consumer kept up with the client (writes blocked {up.blocked:.2f} s, lead at most "
                 f"{max(leads) / MiB:.1f} MiB): no backpressure was needed")
    assert max(leads) <= SLOW_LEAD_BOUND, (
        f"the client's writes ran {max(leads) / MiB:.1f} MiB ahead of what the slow handler had received "
        f"(bound {SLOW_LEAD_BOUND // MiB} MiB): the server buffered the upload instead of pushing back")
    assert got == big.answer(), f"the answer is {got}, the body sent was {big.answer()}"


def _half_upload(target, framing: str, prefix: str):
    """A 128 KiB upload of which the client sends 64 KiB; returns once the handler began (its record has
    ``start``), with the record and the Upload."""
    # The server must take a whole upload first: a server that never answers one would otherwise pass
    # (a handler that never begins accepts nothing).
    small = body_bytes(5, seed=5)
    check = _upload(target, framing, _plan(prefix), len(small))
    try:
        check.send(small)
        check.end()
        got = upload_answer(check.answer())
    finally:
        check.close()
    assert got == expected_answer(small), f"a whole 5-byte upload was answered {got}"
    body = body_bytes(2 * FIRST_PIECE, seed=13)
    plan = _plan(prefix)
    up = _upload(target, framing, plan, len(body))
    up.send(body[:FIRST_PIECE])
    record = wait_record(target, plan.request_id, lambda r: "start" in kinds(r), bounds.PRODUCER_START_S)
    return plan, up, record


def _judge_left(target, plan: UploadPlan, how: str, began: bool) -> str:
    """After the client left mid-body: the handler must end ``aborted`` (error or cancellation), never
    ``end``. A handler that had not begun may never begin (the server held the incomplete body back and
    dropped it: nothing was accepted), but if it begins later it must not see the short body as complete.
    Returns how the handler ended."""
    record = wait_record(target, plan.request_id, lambda r: {"end", "aborted"} & set(kinds(r)),
                         bounds.CLEANUP_S)
    seen = kinds(record)
    assert "end" not in seen, (
        f"the client {how} after {FIRST_PIECE} of {2 * FIRST_PIECE} bytes, and the handler's body ended "
        f"as if complete ({[e for e in record['events'] if e['kind'] == 'end'][0]}): a short body accepted")
    if not seen and not began:
        return "handler never began"
    assert "aborted" in seen, (
        f"the client {how} after {FIRST_PIECE} of {2 * FIRST_PIECE} bytes; within {bounds.CLEANUP_S:g} s the "
        f"handler saw neither an error nor a cancellation (its record: {seen})")
    return next(e.get("how") for e in record["events"] if e["kind"] == "aborted")


@case("upload.abort", "MUST", "RFC 9112 §8 (incomplete messages); ASGI HTTP spec 'http.disconnect'",
      requires=("uploads",), framed=True)
def test_upload_abort(target, figures, framing):
    """"A server that receives an incomplete request message ... MAY send an error response prior to
    closing the connection": a client that resets the connection half-way through its upload leaves the
    handler with an error or a cancellation (recorded ``aborted``) within 2 s, never with a short body
    that looks complete (``end``). A server that holds the body back until it is complete may never run
    the handler at all (figure ``how``: nothing was accepted); if it runs it later, with the short body,
    that is a failure."""
    plan, up, record = _half_upload(target, framing, "upabort")
    up.conn.abort_rst()
    figures["how"] = _judge_left(target, plan, "reset the connection", began="start" in kinds(record))


@case("upload.ends-early", "MUST", "RFC 9112 §8 (incomplete messages), §6.3", requires=("uploads",), framed=True)
def test_upload_ends_early(target, figures, framing):
    """"A message body ... is incomplete" when the connection closes before the framing says it ends: a
    client that half-closes (FIN) after 64 KiB of a 128 KiB body (declared length, or chunked without the
    last chunk) is never answered 2xx, and the handler never records the short body as complete; it sees
    an error or a cancellation (or, on a server that holds the body back, never runs: figure ``how``)."""
    plan, up, record = _half_upload(target, framing, "upearly")
    try:
        up.conn.sock.shutdown(socket.SHUT_WR)
        ex = up.answer(head_s=bounds.CLEANUP_S + bounds.HEAD_S)
    finally:
        up.close()
    figures["answer"] = ex.status if ex.status is not None else ex.ending
    assert ex.status is None or ex.status >= 400, (
        f"the client's body ended after {FIRST_PIECE} of {2 * FIRST_PIECE} bytes and the server answered "
        f"{ex.status}: {ex.body[:120]!r}")
    figures["how"] = _judge_left(target, plan, "half-closed its side", began="start" in kinds(record))


@case("upload.expect-continue", "MUST", "RFC 9110 §10.1.1 (Expect: 100-continue)", requires=("uploads",))
def test_expect_continue(target, figures):
    """"An origin server MUST send either: an immediate response with a final status code ... or an
    immediate 100 (Continue) response to encourage the client to send the request content": a client
    that sends the head of a 64 KiB upload with ``Expect: 100-continue`` and holds the body back gets a
    ``100 Continue`` within 2 s (the handler reads the body); the body then sent is answered exactly."""
    body = body_bytes(FIRST_PIECE, seed=17)
    plan = _plan("cont")
    up = _upload(target, "length", plan, len(body), headers=[("Expect", "100-continue")])
    try:
        up.conn.read_head(bounds.HEAD_S, final=False)
        interim = [s for s, _ in up.ex.informational]
        figures["interim"] = interim
        assert 100 in interim or up.ex.status is not None, (
            f"the client sent Expect: 100-continue and held its {len(body)}-byte body back: within "
            f"{bounds.HEAD_S:g} s neither 100 Continue nor a final status arrived "
            f"(the handler's record: {kinds(upload_record(target, plan.request_id)) or 'none'})")
        assert up.ex.status is None, (f"a final {up.ex.status} instead of 100 Continue for an upload the handler "
                                      f"accepts: {up.ex.body[:120]!r}")
        up.send(body)
        got = upload_answer(up.answer())
    finally:
        up.close()
    assert got == expected_answer(body), f"the answer is {got}, the body sent was {expected_answer(body)}"


@case("upload.expect-reject", "MUST", "RFC 9110 §10.1.1, §15.5.14 (413); RFC 9112 §9.3",
      requires=("uploads",))
def test_expect_reject(target, figures):
    """A handler that rejects an upload (``reject=413``) before reading it answers a client that sent
    ``Expect: 100-continue`` with the final 413 at once (within 2 s, the body held back), and without
    receiving any of the body. A ``100 Continue`` before the 413 is allowed (RFC 9110 lets a server send
    the 100 before its handler has decided; figure ``interim``), but the 413 must not wait for the body.
    The connection is then either closed or correctly resynchronised: unless the 413 says
    ``Connection: close`` or the server closes, the client sends the declared body and then ``GET
    /health`` on the same connection, whose answer must be exactly the next response."""
    body = body_bytes(FIRST_PIECE, seed=19)
    plan = _plan("reject", reject=413)
    up = _upload(target, "length", plan, len(body), headers=[("Expect", "100-continue")])
    try:
        up.conn.read_head(bounds.HEAD_S, final=True)
        ex = up.ex
        interim = [s for s, _ in ex.informational]
        figures["interim"] = interim
        assert ex.status == 413, (f"Expect: 100-continue on an upload the handler rejects: expected a final 413 "
                                  f"within {bounds.HEAD_S:g} s, got {ex.status or ex.ending} {ex.error}")
        up.conn.read_body(timeout=bounds.BODY_S)
        assert ex.ending == "complete", f"the 413 did not end properly ({ex.ending}: {ex.error})"
        record = upload_record(target, plan.request_id)
        assert "piece" not in kinds(record), f"the handler received body bytes the client never sent: {kinds(record)}"
        closing = (ex.header("connection") or "").lower() == "close"
        figures["after"] = "connection: close" if closing else "kept"
        if closing:
            return
        # The body goes through h11 (it frames nothing for a declared length), so h11 can start the next cycle.
        rest = up.conn.h11.send(h11.Data(data=body)) + (up.conn.h11.send(h11.EndOfMessage()) or b"")
        up.conn.next_cycle()
        try:
            up.conn.send_raw(rest, bounds.BODY_S)
            follow = up.conn.send_request("GET", "/health")
        except (OSError, WireTimeout) as exc:  # the server closed the connection: legal here
            figures["after"] = f"closed ({type(exc).__name__})"
            return
        up.conn.read_response(timeout=bounds.HEAD_S + bounds.BODY_S)
    finally:
        up.close()
    if follow.status is None and follow.ending in ("closed", "invalid") and not follow.body:
        figures["after"] = "closed after the body"
        return
    assert follow.status == 200 and follow.body == b"ok\n", (
        f"after the 413 the client sent the declared {len(body)}-byte body and GET /health on the same "
        f"connection: the next response is {follow.status or follow.ending} {follow.body[:80]!r} "
        f"({follow.error}), not exactly /health's")
    figures["after"] = "resynchronised"
