"""Broken: a 416 without ``Content-Range: bytes */<length>`` (the client cannot learn the size)."""

import reference.files as F
from reference.app import make_app

_send_whole = F.send_whole


async def send_whole(send, status, body, content_type=b"text/plain", headers=()):
    if status == 416:
        headers = [h for h in headers if h[0] != b"content-range"]
    await _send_whole(send, status, body, content_type, headers)


F.send_whole = send_whole
app = make_app()
SELECT = "files.range.*"
CAUGHT_BY = {"files.range.unsatisfiable"}
