"""An ASGI app that answers every request 404: a server that is up but does not serve the contract's
``/probe`` (an adapter author's first mistake). The run must say so at once, not wait out the start bound."""


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 404, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})
