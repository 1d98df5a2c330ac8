"""Raw-socket reproductions of the BlackSheep findings (reports/findings/blacksheep.md).
``python tests/adapter_repro/blacksheep_repro.py [uvicorn|hypercorn|granian]``."""

from __future__ import annotations

import sys
from urllib.parse import quote

from rawwire import get, leave_idle_stream, serving, show


def main(servers: list[str]) -> int:
    for server in servers:
        with serving("blacksheep", server) as (port, _tree):
            leave_idle_stream(port, "BS1 StreamedContent", "/stream?n=3&size=64&delay=30000")
            show("BS2 GET /stream?sizes=5,0,7 (an empty chunk in the middle)", get(port, "/stream?sizes=5,0,7"), 200)
            show("BS3 HEAD /stream?n=2&size=4", get(port, "/stream?n=2&size=4", method="HEAD"))
            show("BS4 GET /sse?n=1&payload=multiline (TextServerSentEvent)", get(port, "/sse?n=1&payload=multiline"), 200)
            show("BS5 /file/%252e%252e%252foutside%252fsecret.bin (double-encoded ../)",
                 get(port, "/file/%252e%252e%252foutside%252fsecret.bin"), 0)
            show("BS6 /file/ with a non-ASCII name", get(port, "/file/" + quote("résumé naïve 名前.bin")), 0)
            show("BS7 Range: bytes=0-9 on /file/k64.bin", get(port, "/file/k64.bin", headers="Range: bytes=0-9\r\n"), 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn"]))
