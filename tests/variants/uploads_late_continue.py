"""Broken: ``100 Continue`` is sent only after the whole request body was read, when it can no longer
encourage anything: a client that waits for it before sending the body (as RFC 9110 §10.1.1 lets it)
waits, and the server waits for the body.

uvicorn's h11 protocol sends the 100 on the app's first ``receive()``; this variant moves it to the
``receive()`` that returns the body's last message (uvicorn with ``--uvicorn-http h11`` only).
"""

import h11
from uvicorn.protocols.http import h11_impl

from reference.app import app  # noqa: F401

_receive = h11_impl.RequestResponseCycle.receive


async def _late_continue_receive(self):
    if self.waiting_for_100_continue:
        self.waiting_for_100_continue = False  # not now...
        self.continue_owed = True
    message = await _receive(self)
    if getattr(self, "continue_owed", False) and message["type"] == "http.request" \
            and not message.get("more_body", False) and not self.transport.is_closing():
        self.continue_owed = False  # ...but after the body's last message
        self.transport.write(self.conn.send(h11.InformationalResponse(status_code=100, headers=[],
                                                                      reason="Continue")))
    return message


h11_impl.RequestResponseCycle.receive = _late_continue_receive
SELECT = ("upload.*", "echo.*")
CAUGHT_BY = {"upload.expect-continue"}
