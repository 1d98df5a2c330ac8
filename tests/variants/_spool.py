"""Shared by the spooling upload variants: read the whole request body before the handler runs, then
hand the handler a ``receive`` that replays it as one message."""


async def spool(receive, on_disconnect: str):
    """The body read whole, as a replaying ``receive``. When the client leaves first: ``"drop"`` returns
    None (the handler never runs), ``"keep"`` replays what arrived as if it were the whole body."""
    body, more = bytearray(), True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            if on_disconnect == "drop":
                return None
            break
        body += message.get("body", b"")
        more = message.get("more_body", False)
    replay = iter([{"type": "http.request", "body": bytes(body), "more_body": False}])

    async def replayed():
        return next(replay, {"type": "http.disconnect"})

    return replayed
