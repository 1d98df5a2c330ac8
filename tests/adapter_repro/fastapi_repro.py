"""Raw-socket reproductions of the FastAPI findings (reports/findings/fastapi.md); the Starlette ones FastAPI
inherits are in starlette_repro.py. ``python tests/adapter_repro/fastapi_repro.py [uvicorn|hypercorn|granian]``."""

from __future__ import annotations

import sys

from rawwire import error_mid_stream, get, serving, show


def main(servers: list[str]) -> int:
    for name in ("fastapi", "fastapi-mw"):
        for server in servers:
            with serving(name, server) as (port, _tree):
                show(f"FA1 {name}: HEAD /stream?n=2&size=4", get(port, "/stream?n=2&size=4", method="HEAD"))
                show(f"FA1 {name}: HEAD /file/k64.bin", get(port, "/file/k64.bin", method="HEAD"))
                error_mid_stream(port, f"{name}: producer error after 300 bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["uvicorn"]))
