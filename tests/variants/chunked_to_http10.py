"""Broken server: the reference app under uvicorn's httptools protocol, which answers an HTTP/1.0
request for a stream of unknown length with chunked coding (RFC 9112 section 6.1 forbids it)."""

from reference.app import app  # noqa: F401  (the app is correct; the server is not)

SERVER_ARGS = ("--uvicorn-http", "httptools")
SELECT = "chunking.*"
CAUGHT_BY = {"chunking.http10-no-chunked"}
