"""Broken (SSE only): event data is split into ``data:`` lines at LF only (the common
``data.split("\\n")``), so a CR or the CR of a CRLF inside the data goes out raw. To an SSE parser a
lone CR *is* a line end: the text after it becomes a line of its own, read as an unknown field name
and dropped, while the CRLF's CR leaves mixed CRLF/LF line ends behind."""

from reference.app import StreamHandler, make_app
from streamspec.sse import SsePlan, raw_payload


class NaivePlan(SsePlan):
    def event_block(self, event_id: int) -> str:
        lines = [f"event: {self.event}"] if self.event else []
        lines += [f"data: {line}" for line in raw_payload(self.payload, event_id).split("\n")]
        return "\n".join(lines + [f"id: {event_id}"]) + "\n\n"


class MixedLineEnds(StreamHandler):
    sse_plan = NaivePlan


app = make_app(MixedLineEnds())
SELECT = "sse.*"
CAUGHT_BY = {"sse.framing", "sse.browser-eventsource"}
