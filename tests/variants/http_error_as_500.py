"""Broken: the framework's own HTTP error type (``raise_as=http``, status 503) raised before the response
starts is answered as a generic 500, so a handler cannot choose its error status."""

from reference.app import StreamHandler, make_app


class HttpErrorAs500(StreamHandler):
    def status_of(self, error):
        return 500


app = make_app(HttpErrorAs500())
SELECT = "errors.*"
CAUGHT_BY = {"errors.http-error-before-start"}
