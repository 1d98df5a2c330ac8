"""The client side of the uploads cases: a request whose body the case writes piece by piece.

The head goes through h11 (so h11 knows the request and parses the answer, which may come before the body
is finished: a 413, a 100 Continue, an echo), the body is written raw, framed here: a case chooses every
chunk boundary, pauses between pieces, stops short of the declared length, or leaves. Every write is
bounded in time and reports how long the server kept it waiting (upload backpressure, measured).
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
import time

from . import bounds
from .target import Target
from .wire import Exchange, WireConnection, WireTimeout

MiB = 1024 * 1024
#: the answer of /upload is a small JSON object; an echo is capped by the caller
ANSWER_LIMIT = 64 * 1024
#: one write of the request body may wait this long for the server to take it (a slow consumer takes
#: 64 KiB every few ms; a server that stops reading for this long is stalled, not slow)
WRITE_S = 6.0


def body_bytes(size: int, seed: int) -> bytes:
    """``size`` random bytes (about one in 256 is ``1``, which the echo transforms)."""
    return random.Random(seed).randbytes(size)


class BigBody:
    """A long body made of 1 MiB blocks, each a shared random block with its index in its first 8 bytes: a
    dropped, repeated or reordered block changes the hash; nothing but one block is kept."""

    def __init__(self, blocks: int, seed: int = 7) -> None:
        self.blocks = blocks
        self.total = blocks * MiB
        self._block = bytearray(body_bytes(MiB, seed))

    def block(self, index: int) -> bytes:
        self._block[:8] = index.to_bytes(8, "big")
        return bytes(self._block)

    def answer(self) -> dict:
        digest = hashlib.sha256()
        for i in range(self.blocks):
            digest.update(self.block(i))
        return {"bytes": self.total, "sha256": digest.hexdigest()}


class Upload:
    """One request with a body, on a connection of its own. ``framing``: ``chunked`` or ``length``
    (``declared``: the Content-Length sent, by default ``total``)."""

    def __init__(self, target: Target, path: str, framing: str, total: int | None = None, method: str = "POST",
                 headers=(), declared: int | None = None, sndbuf: int | None = None,
                 answer_limit: int = ANSWER_LIMIT) -> None:
        self.framing = framing
        self.conn: WireConnection = target.connect()
        if sndbuf:
            self.conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        framing_header = (("Transfer-Encoding", "chunked") if framing == "chunked"
                          else ("Content-Length", str(declared if declared is not None else total)))
        self.ex: Exchange = self.conn.send_request(method, path, headers=[
            ("Content-Type", "application/octet-stream"), framing_header, *headers],
            with_body=True, body_limit=answer_limit)
        self.sent = 0
        self.blocked = 0.0  # seconds the writes waited for the server to read

    def send(self, data: bytes, timeout: float = WRITE_S, stall_fails: bool = True) -> float:
        """One piece of the body (a chunk of its own when chunked); returns the seconds it was blocked. A
        server that takes none of it for ``timeout`` seconds has stalled the upload: an AssertionError
        saying so (``stall_fails=False``: ``WireTimeout``, for a case that wants the client held)."""
        if not data:
            return 0.0
        frame = (b"%x\r\n" % len(data) + data + b"\r\n") if self.framing == "chunked" else data
        try:
            blocked = self.conn.send_raw(frame, timeout)
        except WireTimeout:
            if not stall_fails:
                raise
            raise AssertionError(f"the upload stalled: after {self.sent} body bytes the server took no more for "
                                 f"{timeout:g} s") from None
        except (BrokenPipeError, ConnectionResetError) as exc:
            answered = self._early_answer()  # reads the answer, if any, so the status is known below
            raise Refused(self.ex.status, f"the server closed the connection after {self.sent} body bytes "
                                          f"({type(exc).__name__}); {answered}") from None
        self.sent += len(data)
        self.blocked += blocked
        return blocked

    def _early_answer(self) -> str:
        """What the server answered before it closed a connection the upload was still writing to."""
        try:
            if self.ex.ending == "open":
                self.conn.read_head(1.0)
            if self.ex.ending == "open":
                self.conn.read_body(timeout=1.0)
        except Exception:  # noqa: BLE001 - whatever arrived is reported below
            pass
        if self.ex.status is None:
            return "it sent no answer"
        return f"it answered {self.ex.status} {self.ex.body[:120]!r}"

    def send_all(self, body: bytes, sizes) -> None:
        """The whole body in pieces of ``sizes`` (which sum to its length), then its end."""
        at = 0
        for size in sizes:
            self.send(body[at:at + size])
            at += size
        self.end()

    def end(self, timeout: float = WRITE_S) -> None:
        """The end of the body (the last chunk; nothing for a declared length)."""
        if self.framing == "chunked":
            self.conn.send_raw(b"0\r\n\r\n", timeout)

    def answer(self, head_s: float = bounds.HEAD_S, body_s: float = bounds.BODY_S) -> Exchange:
        """Read the answer: its head within ``head_s`` of the body's end (a handler that read the body as
        it came has nothing left to do; a slow one is given more by its case), the rest within ``body_s``."""
        if self.ex.ending == "open":
            self.conn.read_head(head_s)
        if self.ex.ending == "open":
            self.conn.read_body(timeout=body_s)
        return self.ex

    def close(self) -> None:
        self.conn.close()


class Refused(AssertionError):
    """The server answered (or closed) before it took the whole body: ``status`` is its answer, if any."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


def upload_answer(ex: Exchange) -> dict:
    """The JSON answer of a 200 from /upload, or an AssertionError saying what arrived instead (``Refused``
    for a 413: the server's request size limit, which a case about large uploads reports as such)."""
    what = f"{ex.method} {ex.target.split('?')[0]}"
    assert ex.status is not None, f"{what}: no answer ({ex.ending}: {ex.error or 'nothing arrived'})"
    if ex.status == 413:
        raise Refused(413, f"{what} answered 413, expected 200; body starts {ex.body[:160]!r}")
    assert ex.status == 200, f"{what} answered {ex.status}, expected 200; body starts {ex.body[:160]!r}"
    assert ex.ending == "complete", f"{what}: the answer did not end properly ({ex.ending}: {ex.error})"
    try:
        answer = json.loads(ex.body)
    except ValueError:
        raise AssertionError(f"{what}: the answer is not JSON: {ex.body[:160]!r}") from None
    return {"bytes": answer.get("bytes"), "sha256": answer.get("sha256")}


def upload_record(target: Target, request_id: str) -> dict:
    """The probe's record of an upload: events (in server time) and live counters; {} if none."""
    return target.probe.ask({"id": "brief:" + request_id}).json().get("record") or {}


def kinds(record: dict) -> list[str]:
    return [e["kind"] for e in record.get("events", [])]


def wait_record(target: Target, request_id: str, done, timeout: float, poll: float = 0.02) -> dict:
    """Poll the upload's record until ``done(record)`` or ``timeout``; the last record either way."""
    deadline = time.monotonic() + timeout
    while True:
        record = upload_record(target, request_id)
        if done(record) or time.monotonic() >= deadline:
            return record
        time.sleep(poll)


__all__ = ["BigBody", "Upload", "WireTimeout", "body_bytes", "kinds", "upload_answer", "upload_record",
           "wait_record"]
