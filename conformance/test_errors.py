"""Errors in the producer: truncation must be visible and mean exactly one thing; a failure before the
first byte is a complete error response (RFC 9112 section 8; RFC 9110 §15; ASGI HTTP spec).

Each error path runs twice: with a plain exception, and with the framework's own HTTP error type
(``raise_as=http``: ``HTTPException``, ``SanicException``, ``web.HTTPServiceUnavailable``... with status
503), because frameworks handle their own error types on a different path."""

from __future__ import annotations

from streamspec.contract import HTTP_ERROR_STATUS, StreamPlan

from . import bounds
from .cases import case
from .helpers import ms, new_id, plan_body_wait, plan_head_wait, require_status


def _check_truncated(target, figures, plan: StreamPlan) -> None:
    """After a mid-stream error the only correct ending: exactly the bytes produced so far, correctly
    framed, then the connection closed with no terminating chunk (chunked) or fewer bytes than declared
    (Content-Length), and nothing else after them."""
    conn = target.connect()
    ex = conn.send_request("GET", plan.target(), plan=plan)
    conn.read_head(plan_head_wait(plan))
    kept = plan.produced_before_raise()
    kept_bytes = len(plan.expected_body(kept))
    # First the bytes produced before the error (bounded by the plan's own time), then the close, which
    # must follow within PROMPT_CLOSE_S: a server that leaves the connection open costs that bound, not
    # the body's whole allowance again.
    conn.read_body(max_bytes=kept_bytes - ex.body_length, timeout=plan_body_wait(plan))
    if ex.ending == "open":
        conn.read_body(timeout=bounds.PROMPT_CLOSE_S + bounds.CLEANUP_GRACE_S)
    framing = "Content-Length" if plan.content_length else "chunked"
    figures.update(received=ex.body_length, produced_before_raise=kept_bytes, ending=ex.ending)
    last = ex.pieces[-1].t if ex.pieces else ex.t_headers
    figures["close_after_last_byte_ms"] = ms(ex.t_end - last) if ex.t_end and last else None
    require_status(ex)
    assert ex.ending != "complete", (
        f"the body ended cleanly ({framing}) after the producer raised ({ex.body_length} bytes): the client "
        "cannot tell the response is incomplete")
    assert ex.ending != "invalid", (
        f"after {ex.body_length} body bytes the server sent bytes that are not {framing} framing ({ex.error}): "
        f"{bytes(ex.raw_tail)[-120:]!r}: a second status line or garbage after the error, not a truncation")
    checker = ex.checker
    if checker.corrupt and checker.first_bad is not None and checker.first_bad >= kept_bytes:
        raise AssertionError(
            f"after the {kept_bytes} bytes produced before the error, {ex.body_length - kept_bytes} bytes the "
            f"producer never made arrived inside the {framing} body: "
            f"{ex.body[kept_bytes:kept_bytes + 80]!r} (an error page spliced into the body)")
    assert ex.ending != "timeout", (
        f"the connection was left open {bounds.PROMPT_CLOSE_S + bounds.CLEANUP_GRACE_S:g} s after the last of "
        f"the {ex.body_length} bytes produced before the producer raised")
    assert not checker.corrupt, f"the body before the error is wrong: {checker.describe()}"
    assert ex.body_length == kept_bytes, (
        f"got {ex.body_length} bytes before the close; the {kept} chunks produced before the error are "
        f"{kept_bytes} bytes")
    if not plan.content_length and ex.pieces:
        assert ex.pieces[-1].chunk_end, "the last chunk before the close was cut off mid-frame"
    assert ex.t_end - last <= bounds.PROMPT_CLOSE_S, (
        f"the connection closed {ex.t_end - last:.2f} s after the last byte (bound {bounds.PROMPT_CLOSE_S} s)")


def _plan(framing: str, prefix: str, **kw) -> StreamPlan:
    return StreamPlan(request_id=new_id(prefix), sizes=(100,) * 6, delay_ms=20, raise_after=3,
                      content_length=framing == "length", **kw)


@case("errors.truncated", "MUST", "RFC 9112 §8; RFC 9112 §7.1; ASGI HTTP spec", framed=True)
def test_truncation_visible(target, figures, framing):
    """"A message body that uses the chunked transfer coding is incomplete if the zero-sized chunk that
    terminates the encoding has not been received. A message that uses a valid Content-Length is
    incomplete if the size of the message body received (in octets) is less than the value given by
    Content-Length": after the producer raises mid-stream the client gets exactly the chunks made so
    far, correctly framed, then the connection closes promptly with nothing after them."""
    _check_truncated(target, figures, _plan(framing, "trunc"))


@case("errors.http-error-truncated", "MUST", "RFC 9112 §8; RFC 9110 §15.6", requires=("http-errors",),
      framed=True)
def test_http_error_mid_stream_truncates(target, figures, framing):
    """The same rule when the producer raises the framework's own HTTP error type (status 503) after the
    head: a status can no longer be sent, so the only honest answer is the visible truncation: exactly
    the bytes produced, then the connection closed, never an error page spliced into the body."""
    _check_truncated(target, figures, _plan(framing, "trunchttp", raise_as="http"))


@case("errors.fail-before-start", "MUST", "ASGI HTTP spec; RFC 9110 §15.6.1")
def test_failure_before_first_byte_is_500(target, figures):
    """A producer that fails before the response starts yields a complete 500 response (properly
    framed), not a 200, a hang, or a reset."""
    plan = StreamPlan(request_id=new_id("fail0"), fail_start=True)
    conn = target.connect()
    ex = conn.send_request("GET", plan.target())
    conn.read_response(bounds.HEAD_S)
    figures["status"] = ex.status
    require_status(ex, 500)
    assert ex.ending == "complete", f"the 500 response was not complete ({ex.ending}: {ex.error})"


@case("errors.http-error-before-start", "MUST", "RFC 9110 §15.6.4 (503); §15", requires=("http-errors",))
def test_http_error_before_first_byte(target, figures):
    """A handler that raises the framework's own HTTP error type with status 503 before the response
    starts gets exactly that status, in a complete response: the framework's error type is how its users
    choose a status."""
    plan = StreamPlan(request_id=new_id("fail0http"), fail_start=True, raise_as="http")
    conn = target.connect()
    ex = conn.send_request("GET", plan.target())
    conn.read_response(bounds.HEAD_S)
    figures["status"] = ex.status
    require_status(ex, HTTP_ERROR_STATUS)
    assert ex.ending == "complete", f"the {ex.status} response was not complete ({ex.ending}: {ex.error})"
