"""A lean raw-socket HTTP/1.1 client for the load users: h11 over a gevent socket, nothing kept.

Why not locust's HttpUser: a stalled or slow reader must control its socket exactly — a small
``SO_RCVBUF`` set *before* ``connect`` (the kernel fixes the window scale at the handshake), how many
bytes each ``recv`` takes, and when it does not read at all. h11 does the parsing (chunk boundaries
included); this module only moves bytes and, unlike ``conformance/wire.py``, keeps no per-piece
history, so a long stream costs constant memory in the locust process.

``BodyChecker`` verifies a body against the contract incrementally (``StreamPlan.chunk``), so loss or
corruption is found without holding the expected body in memory.
"""

from __future__ import annotations

import socket
import struct
import time

import gevent.socket
import h11

from streamspec.contract import BodyChecker, StreamPlan  # noqa: F401 - BodyChecker re-exported for the users


class StreamClosed(Exception):
    """The server closed the connection before the body's framing said it ended (truncation)."""


class RawStream:
    """One request on one new connection; read with ``events()``."""

    def __init__(self, host: str, port: int, rcvbuf: int | None = None, timeout: float = 30.0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.host, self.port = host, port
        self.conn = h11.Connection(h11.CLIENT)
        self.t_sent = 0.0
        self.status: int | None = None
        self.ended = False  # the response's framing said it is complete
        self.sock.connect((host, port))

    def send_get(self, target: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        request = h11.Request(method="GET", target=target,
                              headers=[("Host", f"{self.host}:{self.port}"), *headers])
        self.sock.sendall(self.conn.send(request) + self.conn.send(h11.EndOfMessage()))
        self.t_sent = time.perf_counter()

    def wait_first_byte(self, timeout: float = 30.0) -> float:
        """Seconds from the request to the first response byte, *without* reading it (a stalled
        reader must leave its receive buffer untouched)."""
        gevent.socket.wait_read(self.sock.fileno(), timeout=timeout)
        return time.perf_counter() - self.t_sent

    def peek_status(self) -> int | None:
        """The status code from the bytes already buffered, left in the buffer (MSG_PEEK)."""
        head = self.sock.recv(32, socket.MSG_PEEK)
        parts = head.split(b" ", 2)
        if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
            return int(parts[1])
        return None

    def events(self, recv_size: int = 65536):
        """h11 events from one ``recv`` (at most ``recv_size`` bytes); raises StreamClosed on EOF
        before the end of the message. Returns [] after the message ended."""
        out = []
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                if out:
                    return out
                data = self.sock.recv(recv_size)
                if not data:
                    self.conn.receive_data(b"")
                    try:
                        event = self.conn.next_event()
                    except h11.RemoteProtocolError as exc:
                        raise StreamClosed(str(exc)) from None
                    if isinstance(event, h11.EndOfMessage):
                        self.ended = True
                        return [event]
                    raise StreamClosed("connection closed before the end of the body")
                self.conn.receive_data(data)
                continue
            if isinstance(event, h11.Response):
                self.status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                self.ended = True
                out.append(event)
                return out
            elif isinstance(event, h11.ConnectionClosed):
                raise StreamClosed("connection closed")
            out.append(event)

    def close(self, reset: bool = False) -> None:
        """Close; ``reset`` sends RST (SO_LINGER 0) like a client that crashed or was killed."""
        try:
            if reset:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()
        except OSError:
            pass
