"""Small helpers shared by the case modules: request ids, stream requests in one call, and the first
checks every case makes (status and framing), so a failure says what arrived instead of failing later
with a TypeError."""

from __future__ import annotations

import uuid

from streamspec.contract import StreamPlan

from . import bounds
from .cases import precondition
from .target import Target
from .wire import Exchange, WireConnection


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def fetch(target: Target, plan: StreamPlan, method: str = "GET", http10: bool = False,
          timeout: float | None = None) -> tuple[WireConnection, Exchange]:
    """Send one stream request on a new connection and read the whole response, checking each byte.

    The default timeout is what the plan needs: its delays plus ``bounds.BODY_S``, after a head within
    ``bounds.HEAD_S`` of the first chunk's delay."""
    conn = target.connect()
    ex = conn.send_request(method, plan.target(), http10=http10, plan=plan)
    conn.read_head(plan_head_wait(plan))
    if ex.ending == "open":
        conn.read_body(timeout=timeout or plan_body_wait(plan))
    return conn, ex


def start_stream(target: Target, plan: StreamPlan, rcvbuf: int | None = None) -> tuple[WireConnection, Exchange]:
    """Send one stream request and read only the response head (body bytes are checked as read)."""
    conn = target.connect(rcvbuf=rcvbuf)
    ex = conn.send_request("GET", plan.target(), plan=plan)
    conn.read_head(plan_head_wait(plan))
    return conn, ex


def head_while_held(target: Target, conn: WireConnection, ex: Exchange, request_id: str, produced: str):
    """For a request sent with ``hold=1``: wait for its head while the producer is provably waiting for
    our release, then release it. Returns (the head arrived before the release, the producer's diary at
    the release).

    An ordering the client controls, not a race against a delay: on a loaded machine a head may take
    hundreds of milliseconds, but it can never arrive "late" while nothing has been produced. A server
    that holds the head until the first body bytes sends nothing within ``bounds.HEAD_S``.
    ``produced`` is the probe event of the first item (``chunk``/``event``): if it is in the diary before
    the release, the server did not honour ``hold`` and the case cannot judge (an error, not a verdict).
    No diary at all at the release is a producer not yet started (a framework that starts the generator one
    thread hop after the head, as Litestar's ``ServerSentEvent`` does): nothing was produced either, and the
    release is remembered for when it starts."""
    conn.read_head(bounds.HEAD_S, final=False)
    before = ex.status is not None
    view = target.probe.record(request_id, release=True)
    diary = [e["kind"] for e in (view.events if view is not None else []) if e["kind"] != "chunk"][:12]
    precondition(view is None or view.first(produced) is None,
                 f"the producer did not wait for its release (hold=1): the probe shows {produced!r} before it "
                 f"(its diary at the release: {diary})")
    if not before:
        conn.read_head(bounds.HEAD_S)  # after the release, so the failure can say when the head came
    return before, view


def plan_head_wait(plan: StreamPlan) -> float:
    return bounds.HEAD_S + plan.delay_ms / 1000.0


def plan_body_wait(plan: StreamPlan) -> float:
    return bounds.BODY_S + plan.delay_ms / 1000.0 * plan.chunk_count


def describe_path(ex: Exchange) -> str:
    return f"{ex.method} {ex.target.split('?')[0]}"


def require_status(ex: Exchange, expected: int = 200) -> None:
    """The response has a head with the expected status; else say exactly what arrived."""
    what = describe_path(ex)
    if ex.status is None:
        if ex.ending == "timeout":
            raise AssertionError(f"{what} got no response head within the bound ({ex.error})")
        raise AssertionError(f"{what} got no response head ({ex.ending}: {ex.error or 'nothing arrived'})")
    if ex.status != expected:
        raise AssertionError(f"{what} answered {ex.status}, expected {expected}; body starts "
                             f"{ex.body[:200]!r}")
    plan = ex.checker.plan if ex.checker is not None else None
    if plan is not None and plan.content_length and ex.status == 200 and ex.http_version == "1.1":
        # A `.length` case judges a declared-length body: a server that drops the declared length has
        # turned it into a chunked case, which says nothing about its Content-Length code path.
        te, cl = ex.header("transfer-encoding"), ex.header("content-length")
        if cl != str(plan.total) or te is not None:
            raise AssertionError(f"{what}: the declared length was not sent (Content-Length {cl!r}, "
                                 f"Transfer-Encoding {te!r}; declared {plan.total}), so this declared-length "
                                 "case could not run as one (see chunking.content-length)")


def require_complete(ex: Exchange) -> None:
    """The response ended as its framing says, and every byte matched the contract."""
    what = describe_path(ex)
    if ex.corrupt:
        raise AssertionError(f"{what}: {ex.corrupt}")
    if ex.ending != "complete":
        raise AssertionError(f"{what}: the body did not end properly after {ex.body_length} bytes "
                             f"({ex.ending}: {ex.error})")


def require_intact(ex: Exchange) -> None:
    """Every body byte read so far matched the contract (duplicates, reordering, corruption fail)."""
    if ex.corrupt:
        raise AssertionError(f"{describe_path(ex)}: {ex.corrupt}")


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)
