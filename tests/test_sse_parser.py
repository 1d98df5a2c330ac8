"""The SSE parser against WHATWG HTML §9.2.5-9.2.6: the spec's own example streams, then each rule,
then arbitrary feed splits (hypothesis): the suite's SSE verdicts are only as good as this parser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from conformance.sse_parser import Event, EventStreamParser, events_of, parse
from streamspec.sse import PAYLOADS, SsePlan, encode_event, expected_data, raw_payload


def events(stream: bytes, last_event_id: str = "") -> list[Event]:
    return events_of(parse(stream, last_event_id))


def data(stream: bytes) -> list[str]:
    return [e.data for e in events(stream)]


# -- the spec's examples (§9.2.6) -----------------------------------------------------------------
def test_spec_example_multiline_data():
    """"data: YHOO / data: +2 / data: 10" fires one message with data "YHOO\\n+2\\n10"."""
    assert events(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [Event("message", "YHOO\n+2\n10", "")]


def test_spec_example_four_blocks():
    """Comment-only block fires nothing; "id: 1" after data sets that event's lastEventId; a bare "id"
    resets it to empty; "data:  third event" keeps one leading space; the last block needs its blank
    line, the end of the stream is not enough."""
    stream = (b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
              b"data:  third event\n\ndata: never dispatched")
    assert events(stream) == [Event("message", "first event", "1"), Event("message", "second event", ""),
                              Event("message", " third event", "")]


def test_spec_example_empty_and_newline_data():
    """"data / (blank) / data / data / (blank) / data:" fires "" then "\\n"; the last block is
    discarded because no blank line follows it."""
    assert data(b"data\n\ndata\ndata\n\ndata:") == ["", "\n"]


def test_spec_example_space_after_colon_is_optional():
    assert data(b"data:test\n\ndata: test\n\n") == ["test", "test"]


def test_spec_example_event_types():
    stream = b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
    assert [(e.type, e.data) for e in events(stream)] == [("add", "73857293"), ("remove", "2153"),
                                                          ("add", "113411")]


# -- the rules, one by one ------------------------------------------------------------------------
def test_line_ends_cr_lf_crlf_are_equivalent():
    for eol in (b"\n", b"\r", b"\r\n"):
        assert data(b"data: a" + eol + b"data: b" + eol + eol) == ["a\nb"], eol


def test_lf_cr_is_two_line_ends():
    """LF then CR is not a pair: two line ends, so a blank line, so a dispatch."""
    assert data(b"data: a\n\rdata: b\n\n") == ["a", "b"]


def test_crlf_split_across_feeds_is_one_line_end():
    parser = EventStreamParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\ndata: b\r") == []  # the LF pairs with the CR: no blank line, no dispatch
    assert parser.feed(b"\n\r\n") == [Event("message", "a\nb", "")]


def test_cr_at_end_of_feed_then_cr_is_a_blank_line():
    parser = EventStreamParser()
    parser.feed(b"data: a\r")
    assert parser.feed(b"\r") == [Event("message", "a", "")]


def test_bom_stripped_once_only():
    assert data(b"\xef\xbb\xbfdata: a\n\n") == ["a"]
    # A second BOM is part of the field name "\ufeffdata", an unknown field: ignored.
    assert data(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n") == ["b"]
    # A BOM later in the stream is not stripped.
    assert data(b"data: a\n\n\xef\xbb\xbfdata: b\n\n") == ["a"]


def test_bom_split_across_feeds():
    parser = EventStreamParser()
    assert parser.feed(b"\xef") == [] and parser.feed(b"\xbb") == []
    assert parser.feed(b"\xbfdata: x\n\n") == [Event("message", "x", "")]


def test_invalid_utf8_replaced():
    assert data(b"data: a\xffb\n\n") == ["a\ufffdb"]


def test_utf8_split_inside_a_character():
    encoded = "data: 日本語 🚀\n\n".encode()
    parser = EventStreamParser()
    out = [e for i in range(len(encoded)) for e in parser.feed(encoded[i:i + 1])]
    assert [e.data for e in out] == ["日本語 🚀"]


def test_field_without_colon_has_empty_value():
    assert data(b"data\ndata\n\n") == ["\n"]
    assert [e.type for e in events(b"event\ndata: x\n\n")] == ["message"]  # empty event type: message


def test_only_one_leading_space_removed():
    assert data(b"data:  two\n\ndata:\tx\n\n") == [" two", "\tx"]


def test_colon_in_value_kept():
    assert data(b"data: a: b:c\n\n") == ["a: b:c"]


def test_empty_data_not_dispatched_but_id_kept():
    parser = parse(b"id: 7\n\nevent: ping\n\ndata: x\n\n")
    assert events_of(parser) == [Event("message", "x", "7")]  # "ping" was reset with the empty block
    assert parser.last_event_id == "7"


def test_id_with_nul_is_ignored():
    assert events(b"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n") == [Event("message", "a", "1"),
                                                                   Event("message", "b", "1")]


def test_last_event_id_persists_across_events():
    assert [e.last_event_id for e in events(b"id: 5\ndata: a\n\ndata: b\n\nid:\ndata: c\n\n")] == ["5", "5", ""]


def test_last_event_id_seeded_by_the_client():
    assert events(b"data: a\n\n", last_event_id="41") == [Event("message", "a", "41")]


def test_retry_only_ascii_digits():
    parser = parse(b"retry: 1500\n\nretry: 12a\n\nretry: -5\n\nretry: 1.5\n\nretry: \n\nretry: 0300\n\n")
    assert parser.retries == [1500, 300]
    assert parser.reconnection_time == 300
    assert events_of(parser) == []


def test_comments_recorded_not_dispatched():
    parser = parse(b": keep-alive\n\n:\n\ndata: a\n\n")
    assert parser.comments == [" keep-alive", ""]
    assert [k for k, _ in parser.log] == ["comment", "comment", "event"]


def test_unknown_fields_and_case_sensitivity_ignored():
    assert data(b"Data: no\nDATA: no\nfoo: bar\ndata: yes\n\n") == ["yes"]


def test_unterminated_event_discarded_at_close():
    parser = EventStreamParser()
    assert parser.feed(b"data: a\n\ndata: b\n") == [Event("message", "a", "")]
    assert parser.close() == []


# -- the streamspec encoding, decoded by the parser -------------------------------------------------
def test_contract_payloads_round_trip():
    for kind in (*PAYLOADS, "mixed"):
        for i in range(1, 7):
            block = encode_event(i, raw_payload(kind, i), "tick").encode()
            assert events(block) == [Event("tick", expected_data(kind, i), str(i))], (kind, i)


def _plan_stream(plan: SsePlan) -> bytes:
    return ((f"retry: {plan.retry_ms}\n\n" if plan.retry_ms else "")
            + "".join(plan.event_block(i) for i in plan.ids())).encode()


@given(cuts=st.lists(st.integers(0, 2000), max_size=40),
       stream_eol=st.sampled_from(["\n", "\r", "\r\n"]))
def test_any_feed_split_gives_the_same_events(cuts, stream_eol):
    """However the bytes are split into feeds (inside CRLF pairs, inside UTF-8 sequences, inside the
    BOM), the parser dispatches exactly what it dispatches for the whole stream."""
    plan = SsePlan(count=6, payload="mixed", event="tick", retry_ms=250)
    text = _plan_stream(plan).decode().replace("\n", stream_eol)
    stream = b"\xef\xbb\xbf" + f": hello{stream_eol}{stream_eol}".encode() + text.encode()
    whole = parse(stream)
    parser = EventStreamParser()
    got = []
    bounds = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    for a, b in zip(bounds, bounds[1:]):
        got += parser.feed(stream[a:b])
    got += parser.close()
    assert got == events_of(whole)
    assert [e.data for e in got] == [expected_data("mixed", i) for i in plan.ids()]
    assert parser.retries == [250] and parser.comments == [" hello"]
