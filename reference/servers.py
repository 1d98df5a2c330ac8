"""Run an ASGI app (named by import string) under uvicorn, hypercorn or granian on one port.

Each function blocks until the process is told to stop. The launcher in ``streamspec.launch`` starts
``python -m reference`` as a child process and owns its lifetime; nothing here daemonises or forks
past what the server itself does (granian runs one worker process under its supervisor).

uvicorn runs with its h11 protocol implementation by default: its httptools implementation answers an
HTTP/1.0 request with chunked coding (RFC 9112 section 6.1 forbids that), which the suite catches; pass
``--uvicorn-http httptools`` to see it.
"""

from __future__ import annotations

import importlib

SERVERS = ("uvicorn", "hypercorn", "granian")


def load_app(target: str):
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr or "app")


def run_uvicorn(target: str, host: str, port: int, http: str = "h11") -> None:
    import uvicorn

    uvicorn.run(load_app(target), host=host, port=port, http=http, lifespan="on", log_level="warning",
                access_log=False)


def run_hypercorn(target: str, host: str, port: int) -> None:
    import asyncio

    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [f"{host}:{port}"]
    config.loglevel = "WARNING"
    config.accesslog = None
    asyncio.run(serve(load_app(target), config))


def run_granian(target: str, host: str, port: int) -> None:
    from granian import Granian
    from granian.constants import Interfaces

    Granian(target, address=host, port=port, interface=Interfaces.ASGI, workers=1,
            log_level="warning").serve()


def server_versions(server: str) -> dict[str, str]:
    """Versions that decide behaviour, for the results file."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in (server, "h11", "httptools", "uvloop"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out
