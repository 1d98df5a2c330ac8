"""Objects: downloads streamed from a real S3-compatible store (moto in server mode) through aiobotocore
(RFC 9110 §14, §15.5.17; RFC 9112 §8; the aiobotocore/aiohttp connection pool).

The server under test reaches the store through its run's relay (``conformance/store.py``), so a case can
make the store fail mid-object for that server alone. What the server holds is seen from inside it: its
connections to the store and the bytes waiting unread in them (``streamspec/resources.py``). Every body
byte is compared with the object's bytes kept on disk when the store was filled.
"""

from __future__ import annotations

import time

from streamspec.files import OBJECTS

from . import bounds
from .cases import case, precondition
from .download_client import fetch, read_to_end, require_status, request, resources, wait_until
from .expected import SliceChecker, file_bytes
from .helpers import ms

NEEDS = ("local-process", "objects")
BIG = "m32.bin"  # 32 MiB: far more than socket buffers hold, so a stalled download stays mid-object
SMALL_RCVBUF = 4096
RANGED = "k64.bin"
ABORTS = 12  # more than the 10 connections an aiobotocore client pools by default
SIZE = OBJECTS[RANGED]


def _object(files, key: str) -> memoryview:
    return file_bytes(files.object_path(key))


def _path(key: str) -> str:
    return f"/object/{key}"


def _store(target) -> list[dict]:
    return resources(target)["store"]


def _unread(conns: list[dict]) -> int:
    return sum(c["rx"] for c in conns)


def _idle_note(conns: list) -> str:
    """Why the failure names pooled connections: an S3 client keeps a connection in its pool only after
    reading its body to the end (one left mid-body is closed), so connections with nothing waiting most
    likely carried objects read to the end after their clients left. A body still being read, or left
    suspended with its socket drained, looks the same, hence "most likely"."""
    if conns and _unread(conns) == 0:
        return (" (nothing waiting in them: an S3 client pools a connection only once its body was read to the "
                "end, so most likely the objects were read to their end after the clients left)")
    return ""


def _released(target, baseline: int) -> bool:
    """No object bytes waiting unread in any store connection, and no more connections than before."""
    conns = _store(target)
    return _unread(conns) == 0 and len(conns) <= baseline


@case("objects.get", "MUST", "RFC 9110 §6.4, §8.6; RFC 9112 §6.3", requires=("local-process", "objects"))
def test_object_get(target, figures, files):
    """An object read whole (0 B, 1 B, 4097 B, 64 KiB) is a 200 whose body is exactly the object's bytes,
    properly ended, with a Content-Length, if sent, equal to its size."""
    for key in ("empty.bin", "one.bin", "c4097.bin", "k64.bin"):
        checker = SliceChecker(_object(files, key))
        ex = fetch(target, _path(key), checker=checker, timeout=bounds.BODY_S + 2)
        require_status(ex, (200,))
        cl = ex.header("content-length")
        assert cl is None or cl.strip() == str(checker.total), f"GET {key}: Content-Length {cl!r}, size {checker.total}"
        assert not checker.corrupt, f"GET {key}: {checker.describe()}"
        assert ex.ending == "complete" and ex.body_length == checker.total, (
            f"GET {key}: {ex.body_length} of {checker.total} bytes, {ex.ending}: {ex.error}")


@case("objects.head", "MUST", "RFC 9110 §9.3.2, §8.6", requires=("local-process", "objects"))
def test_object_head(target, figures, files):
    """HEAD of an object is a 200 with no body, and a Content-Length, if sent, equal to the object's size
    ("a server MUST NOT send Content-Length in such a response unless its field value equals" that of GET).
    A GET on the same connection, which must get exactly the object, proves no body followed the HEAD."""
    conn, ex = request(target, _path(RANGED), method="HEAD")
    if ex.ending == "open":
        conn.read_body(timeout=bounds.BODY_S)
    require_status(ex, (200,))
    cl = ex.header("content-length")
    figures["content_length"] = cl
    assert ex.ending == "complete" and ex.body_length == 0, f"HEAD: {ex.body_length} body bytes ({ex.ending})"
    assert cl is None or cl.strip() == str(SIZE), f"HEAD: Content-Length {cl!r}, the object has {SIZE} bytes"
    if conn.closed_by_peer:
        return
    # Body bytes after the HEAD's head would be read as the next answer: a GET on the same connection must
    # get exactly the object (the store may still be sending a leaked body when the HEAD completes).
    conn.next_cycle()
    checker = SliceChecker(_object(files, RANGED))
    ex2 = conn.send_request("GET", _path(RANGED), checker=checker, body_limit=checker.total + 65536)
    conn.read_response(bounds.STORE_HEAD_S)
    if ex2.status is None and ex2.ending == "closed" and not ex2.raw_head:
        return  # the server closed the idle connection after the HEAD: legal
    if ex2.status != 200 or checker.corrupt or ex2.ending != "complete" or ex2.body_length != checker.total:
        raise AssertionError(f"GET after HEAD on the same connection: {ex2.status or ex2.ending} ({ex2.error[:120]}; "
                             f"{checker.describe() or f'{ex2.body_length} bytes'}): the HEAD's body?")


@case("objects.not-found", "SHOULD", "RFC 9110 §15.5.5", requires=("local-process", "objects"))
def test_object_missing(target, figures, files):
    """A key the store does not have is a 404 (the store said so), not a 500 or a hang."""
    ex = fetch(target, _path("no-such-key.bin"))
    figures["status"] = ex.status
    require_status(ex, (404,))


RANGES = [("0-0", 0, 0), ("100-199", 100, 199), ("-100", SIZE - 100, SIZE - 1), ("65000-", 65000, SIZE - 1)]


@case("objects.range", "MUST", "RFC 9110 §14.4, §15.3.7", requires=("local-process", "objects"))
def test_object_ranges(target, figures, files):
    """A single range read from the store is a 206 with exactly ``bytes first-last/65536`` and exactly
    those bytes, or a 200 with the whole object; never a wrong slice, never a 206 whose headers say one
    range and whose body is another."""
    data = _object(files, RANGED)
    statuses = {}
    for value, first, last in RANGES:
        ex = fetch(target, _path(RANGED), headers=[("Range", f"bytes={value}")], body_limit=2 * SIZE)
        statuses[value] = ex.status
        require_status(ex, (200, 206))
        assert ex.ending == "complete", f"bytes={value}: the body did not end properly ({ex.ending}: {ex.error})"
        if ex.status == 206:
            cr = (ex.header("content-range") or "").strip()
            assert cr == f"bytes {first}-{last}/{SIZE}", f"bytes={value}: Content-Range {cr!r}"
            assert ex.body == bytes(data[first:last + 1]), f"bytes={value}: the body is not bytes {first}-{last}"
        else:
            assert ex.body == bytes(data), f"bytes={value}: a 200 that is not the whole object"
    figures["statuses"] = statuses


@case("objects.range-supported", "SHOULD", "RFC 9110 §14.3; the contract (Range passed to the store)", requires=("local-process", "objects"))
def test_object_ranges_supported(target, figures, files):
    """The store serves ranges, so an object download can resume: each single range is a 206, and a
    range past the end is a 416 with ``Content-Range: bytes */65536``."""
    problems = []
    for value, _, _ in RANGES:
        ex = fetch(target, _path(RANGED), headers=[("Range", f"bytes={value}")], body_limit=2 * SIZE)
        if ex.status != 206:
            problems.append(f"bytes={value} answered {ex.status}")
    ex = fetch(target, _path(RANGED), headers=[("Range", f"bytes={SIZE}-")], body_limit=2 * SIZE)
    cr = ex.header("content-range")
    if ex.status != 416 or (cr or "").strip() != f"bytes */{SIZE}":
        problems.append(f"bytes={SIZE}- answered {ex.status} with Content-Range {cr!r}")
    figures["problems"] = problems
    assert not problems, "; ".join(problems)


def _start_big(target, files):
    checker = SliceChecker(_object(files, BIG))
    conn, ex = request(target, _path(BIG), checker=checker, rcvbuf=SMALL_RCVBUF, body_limit=checker.total + 65536)
    require_status(ex, (200,))
    conn.read_body(max_bytes=64 * 1024, timeout=bounds.BODY_S)
    assert not checker.corrupt, checker.describe()
    assert ex.body_length, f"GET {BIG}: no body byte within {bounds.BODY_S:g} s of the head"
    return conn, ex, checker


def _read_ahead(received: int) -> str:
    """The failure when a download in progress holds no store connection: the server read the whole
    object ahead of its client (into memory): no backpressure, and nothing left for the case to judge."""
    return (f"the server held no store connection (with object bytes waiting) while the client's download was in "
            f"progress ({received} bytes received): it read the 32 MiB object ahead of the client, into memory")


@case("objects.abort", "MUST", "RFC 9112 §9.6; ASGI HTTP spec 'Disconnect'", requires=("local-process", "objects"))
def test_object_abort_releases(target, figures, files):
    """A client that leaves in the middle of a 32 MiB object: within 2 s the server has released the
    store connection that was carrying it (closed, or drained back to the pool: no unread object bytes
    waiting in any of its store connections, and no more store connections than before). The server must
    have held the object open mid-body (probe: a store connection with bytes waiting); one that had read
    the whole object ahead of its client, into memory, fails for that."""
    baseline = len(_store(target))
    conn, ex, _ = _start_big(target, files)
    held, _ = wait_until(lambda: _unread(_store(target)) > 0, 2.0)
    precondition(ex.ending == "open", f"the download was not in progress ({ex.ending}, {ex.body_length} bytes)")
    if not held:
        conn.abort_rst()
        raise AssertionError(_read_ahead(ex.body_length))
    conn.abort_rst()

    ok, took = wait_until(lambda: _released(target, baseline), bounds.CLEANUP_S + bounds.CLEANUP_GRACE_S)
    conns = _store(target)
    figures.update(received=ex.body_length, released_after_ms=ms(took) if ok else None, store_connections=conns)
    assert ok, (f"{took:.1f} s after the client left mid-object the server still holds {len(conns)} store "
                f"connection(s) ({baseline} before) with {_unread(conns)} unread bytes: the object body was not "
                f"released{_idle_note(conns)}")
    assert took <= bounds.CLEANUP_S, (f"the store connection of the download left mid-object was released only "
                                      f"{took:.1f} s after the client left (bound {bounds.CLEANUP_S:g} s)")


@case("objects.abort-many", "MUST", "RFC 9112 §9.6; resource limits", requires=("local-process", "objects"))
def test_object_aborts_leave_nothing(target, figures, files):
    """12 clients, one after another, each start a 32 MiB object, read its first 64 KiB and leave: every
    one gets its head (a server whose aborted bodies keep their pooled connections runs out of them: an
    S3 client pools 10 by default, so 12 are enough), and within 3 s of the last leaving the server holds no more store
    connections than before and none with unread bytes."""
    baseline = len(_store(target))
    peak = 0
    for i in range(ABORTS):
        try:
            conn, ex, _ = _start_big(target, files)
        except AssertionError as exc:
            raise AssertionError(f"download {i + 1} of {ABORTS} (after {i} aborted ones): {exc}; the store connections "
                                 f"now: {_store(target)}") from None
        precondition(ex.ending == "open", f"download {i + 1} was not in progress ({ex.ending})")
        peak = max(peak, len(_store(target)))
        conn.abort_rst()
    if peak <= baseline:
        raise AssertionError(_read_ahead(64 * 1024))

    ok, took = wait_until(lambda: _released(target, baseline), 3.0 + bounds.CLEANUP_GRACE_S, poll=0.1)
    now = _store(target)
    figures.update(store_connections_at_peak=peak, left=len(now), unread=_unread(now))
    figures.update(released_after_s=round(took, 2) if ok else None)
    assert ok, (f"{took:.1f} s after {ABORTS} clients left mid-object the server holds {len(now)} store "
                f"connections ({baseline} before), {_unread(now)} bytes unread{_idle_note(now)}")
    assert took <= 3.0, (f"the store connections of {ABORTS} downloads left mid-object were released only {took:.1f} s "
                         f"after the clients left (bound 3.0 s)")


@case("objects.store-dies", "MUST", "RFC 9112 §8; RFC 9110 §6.4", requires=("local-process", "objects"))
def test_store_dies_mid_object(target, figures, files):
    """The store's connections are cut in the middle of a 32 MiB object: the client must be able to tell.
    The response ends visibly truncated (the connection closes short of the declared length, or without
    the last chunk), the connection closing within 5 s of the last byte, after bytes that are all the
    object's; never a clean end. A server that
    had already read the whole object ahead of its client (no store connection left to cut) fails for that."""
    conn, ex, checker = _start_big(target, files)
    held, _ = wait_until(lambda: len(_store(target)) > 0, 2.0)
    precondition(ex.ending == "open", f"the download was not in progress ({ex.ending}, {ex.body_length} bytes)")
    if not held:
        conn.abort_rst()
        raise AssertionError(_read_ahead(ex.body_length))
    # The server's end of a store connection exists once the kernel has completed the handshake; the relay's
    # once its thread has accepted it, which on a loaded machine can come later: wait for that, bounded.
    wait_until(lambda: files.relay.open_connections > 0, 2.0)
    cut = files.relay.sever()
    precondition(cut > 0, "the relay had no store connection to cut (none accepted within 2 s of the server's)")
    t_cut = time.monotonic()
    read_to_end(conn, ex, idle=bounds.BODY_S + bounds.PROMPT_CLOSE_S, cap=30.0)
    figures.update(cut=cut, received=ex.body_length, ending=ex.ending, ended_after_cut_ms=ms((ex.t_end or t_cut) - t_cut))
    assert not checker.corrupt, f"bytes before the store failed: {checker.describe()}"
    assert ex.ending != "complete", (f"the body ended cleanly after {ex.body_length} of {checker.total} bytes when the "
                                     "store failed: the client cannot tell the object is incomplete")
    assert ex.ending != "timeout", (f"the connection was left open after the store failed: no byte for "
                                    f"{bounds.BODY_S + bounds.PROMPT_CLOSE_S:g} s after {ex.body_length} bytes")
    assert ex.ending == "closed", f"after the store failed: {ex.ending}: {ex.error}"
