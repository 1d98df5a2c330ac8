"""Broken: sends ``Connection: close`` on every streamed response, so connections are never reused."""

from reference.app import StreamHandler, make_app


class ClosesAfterStream(StreamHandler):
    def headers(self, plan):
        return super().headers(plan) + [(b"connection", b"close")]


app = make_app(ClosesAfterStream())
SELECT = "chunking.*"
CAUGHT_BY = {"chunking.keep-alive"}
