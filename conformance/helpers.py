"""Small helpers shared by the case modules: request ids and stream requests in one call."""

from __future__ import annotations

import uuid

from streamspec.contract import StreamPlan

from .target import Target
from .wire import Exchange, WireConnection


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def fetch(target: Target, plan: StreamPlan, method: str = "GET", http10: bool = False,
          timeout: float = 10.0) -> tuple[WireConnection, Exchange]:
    """Send one stream request on a new connection and read the whole response."""
    conn = target.connect(timeout=timeout)
    ex = conn.send_request(method, plan.target(), http10=http10)
    conn.read_response(timeout)
    return conn, ex


def start_stream(target: Target, plan: StreamPlan, rcvbuf: int | None = None,
                 timeout: float = 10.0) -> tuple[WireConnection, Exchange]:
    """Send one stream request and read only the response head."""
    conn = target.connect(timeout=timeout, rcvbuf=rcvbuf)
    ex = conn.send_request("GET", plan.target())
    conn.read_head(timeout)
    return conn, ex


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)
