"""Broken: a multipart/byteranges body with bare LF line ends instead of CRLF."""

import reference.ranges as R
from reference.app import make_app

_heads = R.multipart_heads


def multipart_heads(ranges, size, media_type, boundary):
    heads, tail = _heads(ranges, size, media_type, boundary)
    return [h.replace(b"\r\n", b"\n") for h in heads], tail.replace(b"\r\n", b"\n")


R.multipart_heads = multipart_heads
app = make_app()
SELECT = "files.range.*"
CAUGHT_BY = {"files.range.multi"}
