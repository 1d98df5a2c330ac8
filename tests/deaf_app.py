"""A reference server whose event loop stops for good on a fail_start request: the "server alive but
deaf" situation. The suite must fail that case, say the server stopped answering, and quote where it was
stuck (the function below, from the stacks the server prints when the suite aborts it)."""

import time

from reference.app import app as reference_app


def block_the_loop_on_purpose() -> None:
    while True:
        time.sleep(0.05)


async def app(scope, receive, send):
    if scope["type"] == "http" and b"fail_start=1" in scope.get("query_string", b""):
        block_the_loop_on_purpose()
    await reference_app(scope, receive, send)
