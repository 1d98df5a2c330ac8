"""Broken: ignores the declared length and streams with chunked coding anyway."""

from reference.app import StreamHandler, make_app


class DropsContentLength(StreamHandler):
    def headers(self, plan):
        return [h for h in super().headers(plan) if h[0] != b"content-length"]


app = make_app(DropsContentLength())
CAUGHT_BY = {"chunking.content-length"}
