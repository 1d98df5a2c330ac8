"""Full duplex: ``POST /echo`` of the uploads contract answers while the request body still arrives.

The Sanic seed's echo (``replace('1', 'A')`` on each piece, written back as it arrives) is the shape: a
response that starts before its request has ended, over the same connection, in both directions at
once. Each piece the client sends is checked back byte for byte (``streamspec.uploads.echo_transform``
keeps lengths, so any prefix of the echo is the transform of the same prefix of the upload).
"""

from __future__ import annotations

import time

from . import bounds
from .cases import case, precondition
from .helpers import new_id
from .upload_client import MiB, Upload, body_bytes, kinds, upload_record
from .wire import WireTimeout
from streamspec.uploads import UploadPlan, echo_transform

PIECE = 16 * 1024
#: the upload a stalled echo reader pushes back on, and how far the handler may read ahead of what the
#: client read (nothing) before its writes must block it: kernel buffers both ways (up to 6 MiB each on
#: Linux) plus the server's own write buffer; an echo without backpressure reads all of it
STALL_UPLOAD = 48 * MiB
STALL_BOUND = 20 * MiB
#: how long the client keeps writing with every write blocked before it concludes the upload is held back
HELD_S = 1.0


def _echo(target, prefix: str, total: int | None = None, framing: str = "chunked", rcvbuf: int | None = None,
          limit: int = 1 << 20) -> tuple[UploadPlan, Upload]:
    plan = UploadPlan(new_id(prefix))
    up = Upload(target, plan.target("/echo"), framing, total=total, answer_limit=limit)
    return plan, up


def _check_echo(sent: bytes, ex) -> None:
    want = echo_transform(sent[: ex.body_length])
    got = ex.body
    assert got == want, (f"the echo differs from the transformed upload at byte "
                         f"{next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))}"
                         f": got {got[:48]!r}..., expected {want[:48]!r}...")


@case("echo.duplex", "SHOULD", "RFC 9112 §9.3 (a server may respond before the request is complete); "
      "Sanic docs 'Request Streaming'", requires=("uploads", "echo"))
def test_echo_duplex(target, figures):
    """The echo's first bytes arrive before the request body is finished: the client sends one 16 KiB
    piece of a chunked upload and waits (at most 5 s) for the response head and the transformed piece
    before it sends anything more; then it sends three more pieces, each echoed before the next, and
    the last chunk; the response ends, every byte the transform of the upload's."""
    body = body_bytes(4 * PIECE, seed=23)
    plan, up = _echo(target, "duplex")
    try:
        up.send(body[:PIECE])
        up.conn.read_head(bounds.HEAD_S + bounds.BODY_S, final=False)
        assert up.ex.status is not None, (
            f"the client sent {PIECE} bytes of a chunked upload and waited: no response head within "
            f"{bounds.HEAD_S + bounds.BODY_S:g} s (the handler's record: {kinds(upload_record(target, plan.request_id))}); "
            "the echo waits for the whole request")
        assert up.ex.status == 200, f"/echo answered {up.ex.status}: {up.ex.body[:120]!r}"
        for n in range(1, 4):
            up.conn.read_body(max_bytes=n * PIECE - up.ex.body_length, timeout=bounds.BODY_S)
            assert up.ex.body_length >= n * PIECE, (
                f"the client sent {n * PIECE} bytes and waited {bounds.BODY_S:g} s: {up.ex.body_length} echoed "
                "while the request was unfinished")
            _check_echo(body, up.ex)
            if n < 4:
                up.send(body[n * PIECE:(n + 1) * PIECE])
        up.end()
        up.conn.read_body(timeout=bounds.BODY_S)
    finally:
        up.close()
    figures["echoed"] = up.ex.body_length
    assert up.ex.ending == "complete", f"the echo did not end properly ({up.ex.ending}: {up.ex.error})"
    assert up.ex.body_length == len(body), f"echoed {up.ex.body_length} of {len(body)} bytes"
    _check_echo(body, up.ex)


@case("echo.exact", "MUST", "RFC 9112 §6.3, §7.1; Sanic docs 'Request Streaming'", requires=("uploads", "echo"))
def test_echo_exact(target, figures):
    """Every byte of the echo is the transform of the upload's byte at the same offset (``1`` becomes
    ``A``), whatever the piece boundaries: uploads of 0 B, 1 B, 4097 B in odd pieces and 256 KiB in 1 KiB
    pieces (chunked and declared length), sent whole before the echo is read, are echoed exactly and
    completely."""
    shapes = {"empty": [], "one byte": [1], "odd pieces": [1, 2, 4094], "1 KiB pieces": [1024] * 256}
    done = 0
    for framing in ("chunked", "length"):
        for label, sizes in shapes.items():
            body = body_bytes(sum(sizes), seed=len(sizes) + done)
            plan, up = _echo(target, "exact", total=len(body), framing=framing)
            try:
                up.send_all(body, sizes)
                ex = up.answer()
            finally:
                up.close()
            where = f"{label} ({framing}, {len(body)} bytes)"
            assert ex.status == 200, f"{where}: /echo answered {ex.status or ex.ending} {ex.error}"
            assert ex.ending == "complete", f"{where}: the echo did not end properly ({ex.ending}: {ex.error})"
            assert ex.body_length == len(body), f"{where}: echoed {ex.body_length} bytes"
            _check_echo(body, ex)
            done += 1
    figures["uploads"] = done


@case("echo.backpressure", "MUST", "RFC 9112 §9.6 (flow control is TCP's); ASGI HTTP spec 'send'",
      requires=("uploads", "echo"))
def test_echo_backpressure(target, figures):
    """A client that sends a 48 MiB upload to /echo and reads none of the echo is pushed back: its writes
    block for good (1 s with nothing taken) while the handler has received at most 20 MiB; the server
    neither buffers the echo without bound nor reads the upload ahead of its own blocked writes.
    Precondition: the echo had started (the head arrived) before the client stopped reading, and its first
    16 KiB came back exactly."""
    block = body_bytes(MiB, seed=29)
    plan, up = _echo(target, "stall", limit=STALL_UPLOAD + 1)
    t0 = time.monotonic()
    held = False
    try:
        up.send(block[:PIECE])
        up.conn.read_head(bounds.HEAD_S + bounds.BODY_S, final=False)
        precondition(up.ex.status is not None, "the echo's head did not arrive while the request was unfinished")
        # The echo works before the client stops reading: the first piece comes back (a server that sends a
        # head and never reads would otherwise "push back" by doing nothing).
        up.conn.read_body(max_bytes=PIECE, timeout=bounds.BODY_S)
        assert up.ex.body_length >= PIECE, (f"the first {PIECE} bytes were not echoed within {bounds.BODY_S:g} s "
                                            f"({up.ex.body_length} arrived)")
        _check_echo(block, up.ex)
        sent = PIECE
        while sent < STALL_UPLOAD:
            try:
                up.send(block, timeout=HELD_S, stall_fails=False)
            except WireTimeout:
                held = True
                break
            sent += len(block)
        record = upload_record(target, plan.request_id)
    finally:
        up.conn.abort_rst()
    received = int(record.get("counters", {}).get("bytes", 0))
    figures.update(client_sent_mib=round(up.sent / MiB, 1), handler_received_mib=round(received / MiB, 1),
                   seconds=round(time.monotonic() - t0, 2))
    assert held, (f"the client wrote all {STALL_UPLOAD // MiB} MiB to /echo without reading the echo; the handler "
                  f"received {received / MiB:.1f} MiB: nothing pushed back")
    assert received <= STALL_BOUND, (f"the client read none of the echo and the handler received "
                                     f"{received / MiB:.1f} MiB before the client was held (bound {STALL_BOUND // MiB} MiB)")
