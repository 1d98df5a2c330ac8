"""``python -m reference --server {uvicorn,hypercorn,granian} --port N``: serve the reference app."""

from __future__ import annotations

import argparse
import sys

from .servers import SERVERS, run_granian, run_hypercorn, run_uvicorn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reference", description=__doc__)
    parser.add_argument("--server", choices=SERVERS, default="uvicorn")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--app", default="reference.app:app",
                        help="ASGI app as module:attr (the tests serve broken variants this way)")
    parser.add_argument("--uvicorn-http", choices=("h11", "httptools"), default="h11")
    args = parser.parse_args(argv)
    try:
        if args.server == "uvicorn":
            run_uvicorn(args.app, args.host, args.port, http=args.uvicorn_http)
        elif args.server == "hypercorn":
            run_hypercorn(args.app, args.host, args.port)
        else:
            run_granian(args.app, args.host, args.port)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
