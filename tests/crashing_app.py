"""A reference server that kills its own process on a fail_start request: the "server dies mid-run"
situation the suite must report as an error on that case and then recover from."""

import os
import sys

from reference.app import app as reference_app


async def app(scope, receive, send):
    if scope["type"] == "http" and b"fail_start=1" in scope.get("query_string", b""):
        print("deliberate crash: the server process exits now", file=sys.stderr, flush=True)
        os._exit(17)
    await reference_app(scope, receive, send)
