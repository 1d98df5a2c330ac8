"""Errors in the producer: truncation must be visible, a failure before the first byte is a 500
(RFC 9112 section 8; ASGI HTTP spec)."""

from __future__ import annotations

from streamspec.contract import StreamPlan

from .cases import case
from .helpers import fetch, ms, new_id

PROMPT_CLOSE = 2.0  # seconds: a truncated response must not leave the connection hanging


def _check_truncated(target, figures, plan: StreamPlan) -> None:
    conn, ex = fetch(target, plan, timeout=PROMPT_CLOSE + 3)
    kept = plan.produced_before_raise()
    figures["received"] = ex.body_length
    figures["produced_before_raise"] = plan.expected_body(kept).__len__()
    last = ex.pieces[-1].t if ex.pieces else ex.t_headers
    figures["close_after_last_byte_ms"] = ms(ex.t_end - last) if ex.t_end and last else None
    assert ex.status == 200, f"status {ex.status}"
    assert ex.ending != "complete", (
        f"the body ended cleanly after the producer raised ({ex.body_length} bytes): the client "
        "cannot tell the response is incomplete")
    assert ex.ending != "timeout", (
        f"the connection was left open {PROMPT_CLOSE + 3:.0f}s after the producer raised")
    assert ex.t_end - last <= PROMPT_CLOSE, (
        f"the connection closed {ex.t_end - last:.2f}s after the last byte (bound {PROMPT_CLOSE}s)")
    assert ex.body == plan.expected_body(kept), (
        f"got {ex.body_length} bytes; the {kept} chunks produced before the error are "
        f"{len(plan.expected_body(kept))} bytes")


@case("errors.truncated-chunked", "MUST", "RFC 9112 §8; ASGI HTTP spec")
def test_truncation_visible_chunked(target, figures):
    """"A message body that uses the chunked transfer coding is incomplete if the zero-sized chunk that
    terminates the encoding has not been received": after the producer raises mid-stream the client
    gets the chunks made so far, no terminating chunk, and the connection closes promptly."""
    _check_truncated(target, figures, StreamPlan(request_id=new_id("trunc"), sizes=(100,) * 6,
                                                 delay_ms=20, raise_after=3))


@case("errors.truncated-content-length", "MUST", "RFC 9112 §8")
def test_truncation_visible_content_length(target, figures):
    """"A message that uses a valid Content-Length is incomplete if the size of the message body
    received (in octets) is less than the value given by Content-Length": with a declared length the
    client gets fewer bytes and a closed connection, not a hang."""
    _check_truncated(target, figures, StreamPlan(request_id=new_id("trunccl"), sizes=(100,) * 6,
                                                 delay_ms=20, raise_after=3, content_length=True))


@case("errors.fail-before-start", "MUST", "ASGI HTTP spec; RFC 9110 §15.6.1")
def test_failure_before_first_byte_is_500(target, figures):
    """A producer that fails before the response starts yields a complete 500 response (properly
    framed), not a 200, a hang, or a reset."""
    plan = StreamPlan(request_id=new_id("fail0"), fail_start=True)
    _, ex = fetch(target, plan)
    figures["status"] = ex.status
    assert ex.status == 500, f"status {ex.status} ({ex.ending}: {ex.error}), expected 500"
    assert ex.ending == "complete", f"the 500 response was not complete ({ex.ending}: {ex.error})"
