"""The uploads contract: ``POST|PUT /upload`` and ``POST /echo``, what they record and what they answer.

Sans-IO, like ``streamspec.contract``: the server side turns the query into an ``UploadPlan`` and feeds
each piece of the request body it receives to an ``UploadLog``; the client side computes the same
answer (``expected_answer``, ``echo_transform``) from the bytes it sent. Every adapter serves these two
routes with its framework's *streaming-request* API (Sanic ``stream=True``, aiohttp ``request.content``,
ASGI ``receive()``, socketify ``on_data``...), never by asking for the whole body at once.

``POST|PUT /upload`` query parameters (all optional):

=================  ==========================================================================
``id``             request id; the probe records the upload under it
``consume_delay``  milliseconds the handler waits after each piece before it asks for the next
                   (a slow consumer: the server must push back on the client, not buffer)
``reject``         a 4xx status (413 in the cases) answered at once, before any of the body is
                   read: with ``Expect: 100-continue`` the server must not ask for the body
=================  ==========================================================================

The answer to a complete upload is ``200`` with the JSON ``{"bytes": N, "sha256": "<hex>"}``; a
rejected one is the ``reject`` status with the body ``rejected\\n``.

``POST /echo?id=...`` answers ``200`` at once (before the request body is complete, where the framework
allows it) and streams back every piece as it arrives, transformed as the Sanic seed does
(``replace(b"1", b"A")``), one response write per piece; the response ends when the request body has.

The probe record of either route (``GET /probe?id=<id>``): ``start`` when the handler begins (before it
reads), one ``piece`` event (``size``, ``total`` so far) for each of the first ``PIECE_EVENTS`` pieces,
then ``end`` (``bytes``, ``sha256``, ``pieces``) when the body ended, or ``aborted`` (``how``:
``error`` or ``cancelled``, ``bytes`` so far) when the client left first, then ``cleanup``. Its
``counters`` (``bytes``, ``pieces``) are live, so a case can watch a long upload progress.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Mapping

from .contract import PlanError

#: the statuses ``reject`` may ask for (a typo must not make a 2xx "rejection")
REJECT_STATUSES = (400, 403, 409, 413, 415, 422)
#: piece events recorded one by one; after that only the counters move (a 512 MiB upload has thousands)
PIECE_EVENTS = 256
#: the most a ``consume_delay`` may ask for per piece
MAX_CONSUME_DELAY_MS = 1000.0
ROUTES = ("/upload", "/echo")


def echo_transform(data: bytes) -> bytes:
    """What ``/echo`` sends back for ``data``: the seed's ``replace('1', 'A')``; lengths are kept, so any
    prefix of the echo is the transform of the same prefix of the upload."""
    return data.replace(b"1", b"A")


def expected_answer(body: bytes) -> dict:
    """The JSON answer of ``/upload`` for a complete ``body``."""
    return {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@dataclass(frozen=True)
class UploadPlan:
    request_id: str = ""
    consume_delay_ms: float = 0.0
    reject: int | None = None

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "UploadPlan":
        try:
            delay = float(query.get("consume_delay", "0") or 0)
            reject = int(query["reject"]) if query.get("reject") else None
        except ValueError as exc:
            raise PlanError(f"bad upload parameter: {exc}") from None
        if not 0 <= delay <= MAX_CONSUME_DELAY_MS:
            raise PlanError(f"consume_delay must be 0..{MAX_CONSUME_DELAY_MS:g} ms")
        if reject is not None and reject not in REJECT_STATUSES:
            raise PlanError(f"reject must be one of {REJECT_STATUSES}")
        return cls(query.get("id", ""), delay, reject)

    def query(self) -> str:
        parts = [f"id={self.request_id}"] if self.request_id else []
        if self.consume_delay_ms:
            parts.append(f"consume_delay={self.consume_delay_ms:g}")
        if self.reject:
            parts.append(f"reject={self.reject}")
        return "&".join(parts)

    def target(self, path: str = "/upload") -> str:
        q = self.query()
        return f"{path}?{q}" if q else path


class UploadLog:
    """The server side of one upload: feed it every piece; it keeps the probe record and the hash.

    ``with UploadLog(plan) as log: ... log.piece(data) ...; answer = log.finish()``. Leaving the block
    with an exception (the client left: the framework's disconnect error, or a cancellation) records
    ``aborted``; leaving it without ``finish()`` records ``aborted`` with ``how="unfinished"``.
    """

    def __init__(self, plan: UploadPlan) -> None:
        from .probe import PROBE

        self.plan = plan
        self.record = PROBE.record(plan.request_id)
        self.hash = hashlib.sha256()
        self.bytes = 0
        self.pieces = 0
        self.finished = False

    def __enter__(self) -> "UploadLog":
        self.record.counters.update(bytes=0, pieces=0)
        self.record.add("start", reject=self.plan.reject)
        return self

    def piece(self, data: bytes) -> None:
        if not data:
            return
        self.hash.update(data)
        self.bytes += len(data)
        self.pieces += 1
        self.record.counters.update(bytes=self.bytes, pieces=self.pieces)
        if self.pieces <= PIECE_EVENTS:
            self.record.add("piece", size=len(data), total=self.bytes)

    def finish(self) -> dict:
        """The body ended: record ``end`` and return the JSON answer."""
        self.finished = True
        answer = {"bytes": self.bytes, "sha256": self.hash.hexdigest()}
        self.record.add("end", pieces=self.pieces, **answer)
        return answer

    def __exit__(self, exc_type, exc, tb) -> bool:
        import asyncio

        if exc_type is not None and issubclass(exc_type, (asyncio.CancelledError, GeneratorExit)):
            self.record.add("aborted", how="cancelled", bytes=self.bytes)
        elif exc_type is not None:
            self.record.add("aborted", how="error", error=f"{exc_type.__name__}: {exc}"[:200], bytes=self.bytes)
        elif not self.finished and self.plan.reject is None:
            self.record.add("aborted", how="unfinished", bytes=self.bytes)
        self.record.add("cleanup")
        return False
