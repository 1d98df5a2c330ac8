"""Run an ASGI app (named by import string) under uvicorn, hypercorn or granian on one port.

Shared by the reference (``python -m reference``) and by adapters of ASGI frameworks (Nexios), so an
ASGI app is served the same way whatever the framework; a third-party ASGI adapter can use it as its
command: ``python -m streamspec.asgi_servers --server S --app module:attr --host H --port P``.

Each server runs in the foreground, one worker, until SIGTERM. The launcher in ``streamspec.launch``
owns the process; nothing here daemonises or forks past what the server itself does (granian runs one
worker process under its supervisor).

uvicorn's HTTP protocol is chosen explicitly (``--uvicorn-http``, default h11): its httptools protocol
answers an HTTP/1.0 request with chunked coding (RFC 9112 section 6.1 forbids that), which the suite
catches (reports/FINDINGS.md, reference F2).
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


def serve(server: str, target: str, host: str, port: int, uvicorn_http: str = "h11") -> None:
    if server == "uvicorn":
        run_uvicorn(target, host, port, http=uvicorn_http)
    elif server == "hypercorn":
        run_hypercorn(target, host, port)
    elif server == "granian":
        run_granian(target, host, port)
    else:
        raise ValueError(f"unknown server {server!r}; valid: {', '.join(SERVERS)}")


def main(argv: list[str] | None = None, default_app: str | None = None, prog: str | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog=prog or "python -m streamspec.asgi_servers",
                                     description="Serve an ASGI app under one of the supported servers.")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--app", default=default_app, required=default_app is None,
                        help="ASGI app as module:attr")
    parser.add_argument("--uvicorn-http", choices=("h11", "httptools"), default="h11")
    args = parser.parse_args(argv)
    try:
        serve(args.server, args.app, args.host, args.port, uvicorn_http=args.uvicorn_http)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
