"""Routes that build a fresh handler per request, for variants whose handler keeps per-request state."""


def per_request(handler_class) -> dict:
    async def stream(scope, receive, send):
        await handler_class().stream(scope, receive, send)

    async def sse(scope, receive, send):
        await handler_class().sse(scope, receive, send)

    return {"/stream": stream, "/sse": sse}
