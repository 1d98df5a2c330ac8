"""Chunk framing and flush timing of a streamed response (RFC 9112 sections 6-7, 9.3; RFC 9110 9.3.2)."""

from __future__ import annotations

import h11
from hypothesis import example, given
from hypothesis import strategies as st

from streamspec.contract import StreamPlan

from .cases import case
from .helpers import fetch, ms, new_id

MiB = 1024 * 1024

chunk_sizes = st.one_of(st.integers(0, 70_000), st.sampled_from([1, 255, 8191, 8192, 65535, 65536, 65537]))


@case("chunking.reassembly", "MUST", "RFC 9112 §7.1")
@given(sizes=st.lists(chunk_sizes, min_size=0, max_size=12))
@example(sizes=[])
@example(sizes=[5, 0, 7])
@example(sizes=[16 * MiB])
def test_reassembly(target, figures, sizes):
    """"The chunked transfer coding wraps content in order to transfer it as a series of chunks, each
    with its own size indicator": the client reassembles exactly the bytes written, in order, for any
    chunk sizes and counts, including zero chunks and one 16 MiB chunk."""
    plan = StreamPlan(request_id=new_id("reasm"), sizes=tuple(sizes))
    _, ex = fetch(target, plan, timeout=30.0)
    figures["examples"] = figures.get("examples", 0) + 1
    figures["largest_body"] = max(figures.get("largest_body", 0), plan.total)
    assert ex.status == 200, f"status {ex.status}"
    assert ex.ending == "complete", f"body did not end properly ({ex.ending}: {ex.error}) for sizes {sizes}"
    body = ex.body
    expected = plan.expected_body()
    assert len(body) == len(expected), f"got {len(body)} bytes, expected {len(expected)} for sizes {sizes}"
    assert body == expected, f"bytes differ at offset {_first_difference(body, expected)} for sizes {sizes}"


def _first_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


@case("chunking.flush-per-write", "MUST", "RFC 9112 §7.1; ASGI HTTP 'Response Body'")
def test_flush_per_write(target, figures):
    """Each write reaches the client before the next one is produced: no coalescing, no buffering until
    the end, no Nagle stall. Judged by ordering: chunk i's last byte arrives before the producer makes
    chunk i+1, with 250 ms between chunks (the probe gives production times)."""
    delay = 0.25
    plan = StreamPlan(request_id=new_id("flush"), sizes=(64,) * 5, delay_ms=delay * 1000)
    _, ex = fetch(target, plan)
    assert ex.ending == "complete", f"stream did not complete ({ex.ending}: {ex.error})"
    view = target.probe.record(plan.request_id)
    assert view is not None, "the probe has no record of this request"
    ends = plan.chunk_ends()
    arrivals = [ex.time_of_offset(end) for end in ends]
    produced = [view.chunk_time(i) for i in range(plan.chunk_count)]
    latencies = [a - p for a, p in zip(arrivals, produced)]
    figures["chunk_latency_ms"] = [ms(x) for x in latencies]
    figures["clock_error_ms"] = ms(target.probe.error)
    late = [i for i in range(plan.chunk_count - 1) if arrivals[i] > produced[i + 1] + target.probe.error]
    assert not late, (f"chunk(s) {late} reached the client only after the next chunk was produced: "
                      f"writes are held back (latencies {figures['chunk_latency_ms']} ms, "
                      f"{delay * 1000:.0f} ms between chunks)")


@case("chunking.headers-first", "SHOULD", "ASGI HTTP 'Response Start' (servers may defer headers)")
def test_headers_before_first_chunk(target, figures):
    """Response headers reach the client before the first body chunk is produced. The ASGI spec lets a
    server hold them until the first body message, which starves SSE and long-poll clients; a streaming
    server should not."""
    plan = StreamPlan(request_id=new_id("head1st"), sizes=(32, 32), delay_ms=300)
    _, ex = fetch(target, plan)
    view = target.probe.record(plan.request_id)
    assert ex.t_headers is not None, f"no response head ({ex.ending}: {ex.error})"
    first = view.chunk_time(0) if view else None
    assert first is not None, "the producer never made chunk 0"
    figures["headers_before_first_chunk_ms"] = ms(first - ex.t_headers)
    assert ex.t_headers + target.probe.error < first, (
        f"headers arrived {ms(ex.t_headers - first)} ms after the first chunk was produced: "
        "the server held the response head back until the body started")


@case("chunking.empty-write", "MUST", "RFC 9112 §7.1 (a zero-size chunk is the last-chunk)")
def test_empty_write_does_not_end(target, figures):
    """"The chunked transfer coding is complete when a chunk with a chunk-size of zero is received":
    so an empty write by the application must not be framed as a chunk. The body continues after every
    second write being empty."""
    plan = StreamPlan(request_id=new_id("empty"), sizes=(32,) * 6, empty_every=2)
    _, ex = fetch(target, plan)
    figures["received"] = ex.body_length
    figures["expected"] = plan.total
    assert ex.body == plan.expected_body() and ex.ending == "complete", (
        f"got {ex.body_length} of {plan.total} bytes ({ex.ending}): an empty write ended the body")


@case("chunking.content-length", "MUST", "RFC 9112 §6.2, §6.3")
def test_declared_content_length(target, figures):
    """"A sender MUST NOT send a Content-Length header field in any message that contains a
    Transfer-Encoding header field": a stream that declares its length is sent with exactly that many
    bytes and no chunked coding."""
    plan = StreamPlan(request_id=new_id("cl"), sizes=(1000,) * 5, delay_ms=10, content_length=True)
    _, ex = fetch(target, plan)
    figures["content_length"] = ex.header("content-length")
    figures["transfer_encoding"] = ex.header("transfer-encoding")
    assert ex.header("transfer-encoding") is None, f"Transfer-Encoding {ex.header('transfer-encoding')!r} sent with a declared length"
    assert ex.header("content-length") == str(plan.total), f"Content-Length {ex.header('content-length')!r}, expected {plan.total}"
    assert ex.ending == "complete" and ex.body == plan.expected_body(), f"body wrong ({ex.body_length} bytes, {ex.ending})"


@case("chunking.http10-no-chunked", "MUST", "RFC 9112 §6.1")
def test_http10_never_chunked(target, figures):
    """"A server MUST NOT send a response containing Transfer-Encoding unless the corresponding request
    indicates HTTP/1.1 (or later minor revisions)": an HTTP/1.0 request for a stream of unknown length
    gets a close-delimited body, complete."""
    plan = StreamPlan(request_id=new_id("h10"), sizes=(100,) * 4)
    _, ex = fetch(target, plan, http10=True)
    figures["transfer_encoding"] = ex.header("transfer-encoding")
    assert ex.status == 200, f"status {ex.status} ({ex.ending}: {ex.error})"
    assert ex.header("transfer-encoding") is None, (
        f"answered an HTTP/1.0 request with Transfer-Encoding: {ex.header('transfer-encoding')}")
    assert ex.body == plan.expected_body(), f"got {ex.body_length} of {plan.total} bytes"


@case("chunking.head", "MUST", "RFC 9110 §9.3.2")
def test_head_gets_headers_only(target, figures):
    """"The HEAD method is identical to GET except that the server MUST NOT send content in the
    response": HEAD on the stream gives GET's status and content type, no body, and the connection stays
    in sync (a following request on it is answered correctly)."""
    plan = StreamPlan(request_id=new_id("head"), sizes=(100,) * 4)
    _, get = fetch(target, plan)
    conn = target.connect()
    head = conn.send_request("HEAD", plan.target())
    conn.read_response()
    figures["head_status"] = head.status
    assert head.status == get.status, f"HEAD answered {head.status}, GET answered {get.status}"
    assert head.header("content-type") == get.header("content-type"), "HEAD and GET differ in content type"
    assert head.ending == "complete" and head.body_length == 0, f"HEAD response carried {head.body_length} body bytes"
    if not conn.closed_by_peer and conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE:
        conn.next_cycle()
        follow = conn.send_request("GET", "/health")
        conn.read_response()
        assert follow.status == 200 and follow.body == b"ok\n", (
            f"the request after HEAD got {follow.status} {follow.body[:40]!r}: body bytes leaked after HEAD")


@case("chunking.keep-alive", "SHOULD", "RFC 9112 §9.3")
def test_connection_reusable(target, figures):
    """"HTTP/1.1 defaults to the use of persistent connections": after a complete streamed response the
    same connection carries the next request."""
    plan = StreamPlan(request_id=new_id("reuse"), sizes=(500,) * 3)
    conn, first = fetch(target, plan)
    assert first.ending == "complete", f"first response did not complete ({first.ending})"
    figures["connection_header"] = first.header("connection")
    assert not conn.closed_by_peer and (first.header("connection") or "").lower() != "close", (
        "the server closed the connection after a complete streamed response")
    conn.next_cycle()
    second = conn.send_request("GET", StreamPlan(sizes=(10,) * 2).target())
    conn.read_response()
    assert second.ending == "complete" and second.body == StreamPlan(sizes=(10,) * 2).expected_body(), (
        f"second request on the connection failed ({second.ending}: {second.error})")
