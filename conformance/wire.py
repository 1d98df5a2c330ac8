"""A wire-level HTTP/1.1 client: h11 over a plain blocking socket, every arrival timestamped.

Ordinary clients reassemble the body and hide what the suite must see: when each byte arrived, where
chunk boundaries fell, whether the body ended with the terminating zero-length chunk or the connection
simply closed. This client keeps all of that as data (``Exchange``), h11-style: the socket code only
moves bytes; h11 decides what they mean.

Every wait has a timeout. Nothing here retries. Memory is bounded too: each exchange keeps at most
``body_limit`` body bytes (what the contract allows plus a margin); past it the exchange ends as
``invalid: more body than the contract allows``, so an endless body is a failure, not gigabytes here.
An exchange given the plan it asked for checks every body byte against the contract as it arrives
(``streamspec.contract.BodyChecker``).
"""

from __future__ import annotations

import select
import socket
import struct
import time
from dataclasses import dataclass, field

import h11

from streamspec.contract import BodyChecker, StreamPlan

TRACE_HEAD = 1200  # bytes of raw response kept for a failure trace
TRACE_TAIL = 300
DEFAULT_BODY_LIMIT = 1 << 20  # a request whose answer the contract does not size (health, probe, SSE)
BODY_MARGIN = 64 * 1024  # slack over a plan's total before a body counts as endless


class WireTimeout(TimeoutError):
    pass


@dataclass
class Piece:
    """Body bytes handed over by one h11 Data event, with the time their recv() returned."""

    t: float
    data: bytes
    chunk_start: bool
    chunk_end: bool


@dataclass
class Exchange:
    """One request/response as seen on the wire."""

    method: str
    target: str
    t_sent: float = 0.0
    t_headers: float | None = None
    status: int | None = None
    http_version: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)
    #: "complete" (proper end of message), "closed" (connection closed before the framing said the
    #: body ended: truncation), "invalid" (bytes that are not valid HTTP/1.1 framing), "timeout",
    #: or "open" (still reading)
    ending: str = "open"
    t_end: float | None = None
    error: str = ""
    raw_head: bytearray = field(default_factory=bytearray)
    raw_tail: bytearray = field(default_factory=bytearray)
    log: list[str] = field(default_factory=list)
    body_limit: int = DEFAULT_BODY_LIMIT
    #: checks each body byte against the plan as it arrives (None: the request is not a /stream plan)
    checker: BodyChecker | None = None
    #: bytes that arrived after the complete message, before any further request was sent
    stray: bytes = b""
    #: body bytes so far (kept as a count: summing the pieces on every read made long reads quadratic)
    received: int = 0
    #: keep at most this many body bytes in ``pieces`` (None: all); later pieces keep their time only
    keep_bytes: int | None = None
    #: interim (1xx) responses before the final one: (status, time of the recv that brought it)
    informational: list[tuple[int, float]] = field(default_factory=list)

    # -- derived views ---------------------------------------------------------------------------
    @property
    def body(self) -> bytes:
        return b"".join(p.data for p in self.pieces)

    @property
    def body_length(self) -> int:
        return self.received

    @property
    def corrupt(self) -> str:
        """'' when every body byte so far matched the contract, else what was wrong (one line)."""
        return self.checker.describe() if self.checker else ""

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k == name.lower()]
        return ", ".join(values) if values else None

    def time_of_offset(self, offset: int) -> float | None:
        """When the body byte just before ``offset`` arrived (None if it never did)."""
        if offset <= 0:
            return self.t_headers
        seen = 0
        for piece in self.pieces:
            seen += len(piece.data)
            if seen >= offset:
                return piece.t
        return None

    def trace(self) -> str:
        """A short wire trace for a failure report: events, then the raw bytes' head and tail."""
        lines = list(self.log[:40])
        if len(self.log) > 40:
            lines.append(f"... {len(self.log) - 40} more events")
        lines.append(f"raw head: {bytes(self.raw_head)!r}")
        if self.raw_tail:
            lines.append(f"raw tail: {bytes(self.raw_tail)!r}")
        return "\n".join(lines)


class WireConnection:
    """One TCP connection speaking HTTP/1.1 (or a raw HTTP/1.0 request line) through h11."""

    def __init__(self, host: str, port: int, timeout: float = 10.0, rcvbuf: int | None = None) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            # Must be set before connect() to shrink the advertised window.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.h11 = h11.Connection(h11.CLIENT)
        self.exchange: Exchange | None = None
        self.closed_by_peer = False

    # -- sending ---------------------------------------------------------------------------------
    def send_request(self, method: str, target: str, headers: list[tuple[str, str]] | None = None,
                     http10: bool = False, plan: StreamPlan | None = None,
                     body_limit: int | None = None, checker=None, keep_bytes: int | None = None,
                     with_body: bool = False) -> Exchange:
        """Send a request with no body; returns the Exchange that reading will fill in.

        ``with_body``: send only the head (its headers declare the body's framing); the caller then writes
        the body's bytes itself with ``send_raw`` (conformance/upload_client.py), framing them as it
        chooses, while h11 still parses the answer (which may come before the body is finished).

        ``plan``: the /stream plan the request asks for; every body byte is then checked against it and
        the body may not exceed its total (plus a margin). ``body_limit`` overrides the cap. ``checker``:
        any other checker of the same interface (a file's bytes: ``conformance/expected.py``).
        ``keep_bytes``: keep at most this many body bytes in the pieces (a 256 MiB download is checked
        as it arrives and counted, not kept)."""
        headers = list(headers or [])
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", f"{self.host}:{self.port}"))
        request = h11.Request(method=method, target=target, headers=headers)
        data = self.h11.send(request)
        if not with_body:
            data += self.h11.send(h11.EndOfMessage()) or b""
        if http10:
            # h11 only writes HTTP/1.1; the request line is rewritten, h11 still parses the answer.
            lines = [f"{method} {target} HTTP/1.0"] + [f"{k}: {v}" for k, v in headers]
            data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        limit = body_limit or (plan.total + BODY_MARGIN if plan is not None else DEFAULT_BODY_LIMIT)
        if checker is None and plan is not None and method != "HEAD":
            checker = BodyChecker(plan)
        self.exchange = Exchange(method=method, target=target, body_limit=limit, checker=checker,
                                 keep_bytes=keep_bytes)
        self.exchange.t_sent = time.monotonic()
        self.sock.sendall(data)
        self._log(f"sent {method} {target}{' HTTP/1.0' if http10 else ''}")
        return self.exchange

    def _log(self, text: str) -> None:
        ex = self.exchange
        ex.log.append(f"+{time.monotonic() - ex.t_sent:7.3f}s {text}")

    def send_raw(self, data: bytes, timeout: float) -> float:
        """Write request body bytes as they are (the caller frames them); returns the seconds ``send``
        was blocked, waiting for the server to read (the socket's send buffer full): upload
        backpressure, measured. Raises ``WireTimeout`` when not all was written within ``timeout``."""
        view = memoryview(data)
        blocked = 0.0
        deadline = time.monotonic() + timeout
        self.sock.setblocking(False)
        try:
            while view:
                try:
                    sent = self.sock.send(view)
                    view = view[sent:]
                    continue
                except BlockingIOError:
                    pass
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WireTimeout(f"the server took no more of the request body for {timeout:.1f} s")
                t0 = time.monotonic()
                select.select([], [self.sock], [], min(remaining, 0.5))
                blocked += time.monotonic() - t0
        finally:
            self.sock.settimeout(self.timeout)
        return blocked

    # -- receiving -------------------------------------------------------------------------------
    def _recv(self, size: int, deadline: float) -> bytes:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise WireTimeout("deadline passed")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(size)
        except socket.timeout:
            raise WireTimeout(f"no data within {remaining:.2f}s") from None
        except ConnectionResetError:
            data = b""
            self._log("connection reset by peer")
        ex = self.exchange
        if len(ex.raw_head) < TRACE_HEAD:
            ex.raw_head += data[: TRACE_HEAD - len(ex.raw_head)]
        ex.raw_tail = (ex.raw_tail + data)[-TRACE_TAIL:]
        return data

    def _pump(self, deadline: float, recv_size: int, done=lambda: False) -> None:
        """Feed h11 until the message ends or ``done()`` holds when more data would be needed."""
        ex = self.exchange
        while ex.ending == "open":
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                # h11 raises at EOF inside a body (truncation) and on malformed framing.
                self._end("closed" if self.closed_by_peer else "invalid", f"{exc}")
                return
            if event is h11.NEED_DATA:
                if done():
                    return
                data = self._recv(recv_size, deadline)
                now = time.monotonic()
                self._t_last = now
                if not data:
                    self.closed_by_peer = True
                    self._log("connection closed by server")
                self.h11.receive_data(data)
                continue
            self._handle(event)

    def _handle(self, event) -> None:
        ex = self.exchange
        now = getattr(self, "_t_last", time.monotonic())
        if isinstance(event, h11.InformationalResponse):
            ex.informational.append((event.status_code, now))
            self._log(f"informational {event.status_code}")
        elif isinstance(event, h11.Response):
            ex.t_headers = now
            ex.status = event.status_code
            ex.http_version = event.http_version.decode()
            ex.headers = [(k.decode().lower(), v.decode("latin-1")) for k, v in event.headers]
            te = ex.header("transfer-encoding")
            cl = ex.header("content-length")
            self._log(f"headers HTTP/{ex.http_version} {ex.status} te={te} cl={cl}")
        elif isinstance(event, h11.Data):
            data = bytes(event.data)
            if ex.body_length + len(data) > ex.body_limit:
                data = data[: ex.body_limit - ex.body_length]
                self._keep(now, data, event)
                self._end("invalid", f"more body than the contract allows (over {ex.body_limit} bytes)")
                return
            self._keep(now, data, event)
        elif isinstance(event, h11.EndOfMessage):
            ex.stray = bytes(self.h11.trailing_data[0])
            self._end("complete", "end of message")
        elif isinstance(event, h11.PAUSED):
            self._end("complete", "end of message (paused)")
        elif isinstance(event, h11.ConnectionClosed):
            self._end("closed", "connection closed")
        else:
            raise AssertionError(f"unexpected h11 event {event!r}")

    def _keep(self, now: float, data: bytes, event) -> None:
        ex = self.exchange
        kept = data if ex.keep_bytes is None or ex.received + len(data) <= ex.keep_bytes else b""
        ex.pieces.append(Piece(now, kept, event.chunk_start, event.chunk_end))
        ex.received += len(data)
        if ex.checker is not None:
            ex.checker.feed(data)
        if len(ex.log) < 200:
            self._log(f"data {len(data)} bytes")

    def _end(self, ending: str, note: str) -> None:
        ex = self.exchange
        ex.ending = ending
        ex.t_end = time.monotonic()
        if ending != "complete":
            ex.error = note
        self._log(f"{ending}: {note}")

    def read_head(self, timeout: float | None = None, final: bool = True) -> Exchange:
        """Read until the response headers (or the end) arrive. A timeout ends the exchange as
        ``timeout`` unless ``final=False`` (the caller will wait again)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        ex = self.exchange
        try:
            self._pump(deadline, 65536, done=lambda: ex.t_headers is not None)
        except WireTimeout:
            if final:
                self._end("timeout", "no response head before the deadline")
        return ex

    def read_body(self, max_bytes: int | None = None, timeout: float | None = None,
                  recv_size: int = 262144) -> Exchange:
        """Read until the end of the response, ``max_bytes`` more body bytes, or the timeout.

        A timeout is recorded as ``ending == "timeout"`` only when the whole response was asked for.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        ex = self.exchange
        start = ex.body_length
        done = (lambda: False) if max_bytes is None else (lambda: ex.body_length - start >= max_bytes)
        try:
            self._pump(deadline, recv_size, done)
        except WireTimeout:
            if max_bytes is None:
                self._end("timeout", f"response not finished within {timeout or self.timeout:.1f}s")
        return self.exchange

    def read_response(self, timeout: float | None = None) -> Exchange:
        self.read_head(timeout)
        return self.read_body(timeout=timeout)

    def next_cycle(self) -> None:
        """Prepare h11 for another request on this connection (keep-alive)."""
        self.h11.start_next_cycle()

    def stray_bytes(self) -> bytes:
        """Bytes after a complete response that nobody asked for (a HEAD or 204 with a body, garbage after
        the last chunk): what h11 had left over, plus whatever the socket holds right now. Not waited for:
        a case that must prove their absence sends a second request on the connection."""
        ex = self.exchange
        if ex is None or ex.ending != "complete" or self.h11.our_state is not h11.DONE:
            return b""
        extra = bytearray(ex.stray)
        try:
            self.sock.setblocking(False)
            while len(extra) < 4096:
                data = self.sock.recv(4096)
                if not data:
                    self.closed_by_peer = True  # the server closed after the response: legal at any time
                    break
                extra += data
        except (BlockingIOError, OSError):
            pass
        return bytes(extra)

    # -- leaving ---------------------------------------------------------------------------------
    def abort_fin(self) -> float:
        """Leave politely: discard what is buffered, then close (the kernel sends FIN)."""
        self.sock.setblocking(False)
        try:
            while self.sock.recv(1 << 20):
                pass
        except (BlockingIOError, ConnectionError):
            pass
        t = time.monotonic()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        return t

    def abort_rst(self) -> float:
        """Leave rudely: SO_LINGER 0 makes close() send RST."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        t = time.monotonic()
        self.sock.close()
        return t

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "WireConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
