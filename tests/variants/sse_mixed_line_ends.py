"""Broken (SSE only): event data is split into ``data:`` lines at LF only (the common
``data.split("\\n")``), so a CR or the CR of a CRLF inside the data goes out raw. To an SSE parser a
lone CR *is* a line end: the text after it becomes a line of its own, read as an unknown field name
and dropped, while the CRLF's CR leaves mixed CRLF/LF line ends behind."""

from reference.app import StreamHandler, _utf8, make_app
from reference.asgi import query_of, send_whole
from streamspec.contract import PlanError
from streamspec.sse import HEADERS, SsePlan, produce_events, raw_payload


class NaivePlan(SsePlan):
    def event_block(self, event_id: int) -> str:
        lines = [f"event: {self.event}"] if self.event else []
        lines += [f"data: {line}" for line in raw_payload(self.payload, event_id).split("\n")]
        return "\n".join(lines + [f"id: {event_id}"]) + "\n\n"


class MixedLineEnds(StreamHandler):
    async def sse(self, scope, receive, send):
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            plan = NaivePlan.from_request(query_of(scope), headers.get("last-event-id"))
        except PlanError as exc:
            await send_whole(send, 400, str(exc).encode())
            return
        if plan.exhausted:
            await send_whole(send, 204, b"")
            return
        await self.start(send, 200, [(k.encode(), v.encode()) for k, v in HEADERS])
        await self.deliver(_utf8(produce_events(plan)), send, receive)


app = make_app(routes={"/sse": MixedLineEnds().sse})
SELECT = "sse.*"
CAUGHT_BY = {"sse.framing", "sse.browser-eventsource"}
