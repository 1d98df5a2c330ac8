"""A reference server whose event loop a fail_start request keeps busy computing for 4 s (a framework
finishing an aborted stream's producer on its loop): busy, not deaf. The suite must wait for it rather
than fail the case and abort it as hung (``ServerManager.unresponsive``)."""

import time

from reference.app import app as reference_app

BUSY_S = 4.0


def keep_the_loop_busy_on_purpose() -> None:
    end = time.monotonic() + BUSY_S
    while time.monotonic() < end:
        sum(range(1000))


async def app(scope, receive, send):
    if scope["type"] == "http" and b"fail_start=1" in scope.get("query_string", b""):
        keep_the_loop_busy_on_purpose()
    await reference_app(scope, receive, send)
