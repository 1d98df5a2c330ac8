"""Raw-socket reproductions of the Falcon findings (reports/findings/falcon.md).
``python tests/adapter_repro/falcon_repro.py [uvicorn|hypercorn|granian]``."""

from __future__ import annotations

import sys
from urllib.parse import quote

from rawwire import get, leave_idle_stream, reset_while_blocked, serving, show, upload_cut_short


def main(servers: list[str]) -> int:
    for server in servers:
        with serving("falcon", server) as (port, _tree):
            leave_idle_stream(port, "FC1 resp.stream", "/stream?n=3&size=64&delay=30000")
            reset_while_blocked(port, "FC1 reset while blocked on backpressure")
            show("FC2 HEAD /stream?n=2&size=4", get(port, "/stream?n=2&size=4", method="HEAD"))
            show("FC3 GET /sse?n=1&payload=multiline (SSEvent(text=...))", get(port, "/sse?n=1&payload=multiline"), 200)
            upload_cut_short(port, "FC4 BoundedStream")
            show("FC6 Range: bytes=0-9 on /file/k64.bin (the FAQ's download)",
                 get(port, "/file/k64.bin", headers="Range: bytes=0-9\r\n"), 0)
            show("FC7 /file/escape.bin (a symlink to ../outside/secret.bin)", get(port, "/file/escape.bin"), 0)
            show("FC8 /file/ with quotes in the name (downloadable_as)",
                 get(port, "/file/" + quote('semi; "quoted" name.bin')), 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn"]))
