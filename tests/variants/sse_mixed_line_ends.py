"""Broken (SSE only): event data is split into ``data:`` lines at LF only (the common
``data.split("\\n")``), so a CR or the CR of a CRLF inside the data goes out raw. To an SSE parser a
lone CR *is* a line end: the text after it becomes a line of its own, read as an unknown field name
and dropped, while the CRLF's CR leaves mixed CRLF/LF line ends behind."""

from reference.app import StreamHandler, make_app
from streamspec.sse import SseEvent


class MixedLineEnds(StreamHandler):
    def frame(self, item):
        if not isinstance(item, SseEvent):
            return super().frame(item)
        lines = [f"event: {item.event}"] if item.event else []
        lines += [f"data: {line}" for line in item.data.split("\n")]
        return ("\n".join(lines + [f"id: {item.id}"]) + "\n\n").encode()


app = make_app(MixedLineEnds())
SELECT = "sse.*"
CAUGHT_BY = {"sse.browser-eventsource", "sse.framing"}
