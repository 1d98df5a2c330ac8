"""What the files and objects cases share: download requests in one call, the server's resources as its
probe reports them, its private memory, and waits with a bound."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

import psutil

from . import bounds
from .target import Target
from .wire import Exchange, WireConnection

PREFIX = {"native": "/file/", "streamed": "/file-stream/"}
#: bytes a download case keeps for its failure message and for multipart parsing; the rest is counted
KEEP = 1 << 20


def file_path(endpoint: str, name: str) -> str:
    return PREFIX[endpoint] + quote(name, safe="")


def request(target: Target, path: str, headers=(), method: str = "GET", checker=None, rcvbuf: int | None = None,
            body_limit: int | None = None, keep_bytes: int | None = KEEP,
            head_s: float | None = None) -> tuple[WireConnection, Exchange]:
    """Send one request on a new connection and read its head (within ``head_s``: ``bounds.HEAD_S`` for a
    file, ``bounds.STORE_HEAD_S`` for an object)."""
    conn = target.connect(rcvbuf=rcvbuf)
    ex = conn.send_request(method, path, headers=list(headers), checker=checker,
                           body_limit=body_limit or (checker.total + 64 * 1024 if checker else 1 << 20),
                           keep_bytes=keep_bytes)
    conn.read_head(head_s or (bounds.STORE_HEAD_S if path.startswith("/object/") else bounds.HEAD_S))
    return conn, ex


def fetch(target: Target, path: str, headers=(), method: str = "GET", checker=None, timeout: float = bounds.BODY_S,
          body_limit: int | None = None) -> Exchange:
    """One whole response: its head within ``bounds.HEAD_S``, then body bytes that keep coming, no gap
    longer than ``timeout``, and the end within ``bounds.DOWNLOAD_CAP_S``. A bound on the whole body
    instead failed a correct server that sent a 10 MiB file at 0.6 MiB/s while CI loaded both cores;
    a server that stops sending is still judged within ``timeout``. A response that does not come, or
    does not end, in time fails the case here and now: a case that gathers several answers before
    judging must not wait out the same silence once per request."""
    conn, ex = request(target, path, headers, method, checker, body_limit=body_limit)
    if ex.ending == "open":
        read_to_end(conn, ex, idle=timeout, cap=bounds.DOWNLOAD_CAP_S)
    if ex.ending == "timeout":
        what = "no response head" if ex.status is None else f"a {ex.status} whose body did not end"
        raise AssertionError(f"{method} {path}: {what} within the bound ({ex.error}; {ex.body_length} body bytes)")
    return ex


def read_to_end(conn: WireConnection, ex: Exchange, idle: float, cap: float) -> None:
    """Read the rest of a long body while it keeps coming: the exchange ends ``timeout`` when no byte
    arrived for ``idle`` seconds, or the whole read passed ``cap`` (a 256 MiB download may take a while
    on a slow server; a server that stops sending is judged within ``idle``, not ``cap``)."""
    t0 = time.monotonic()
    while ex.ending == "open":
        before = ex.body_length
        conn.read_body(max_bytes=8 << 20, timeout=idle, recv_size=1 << 20)
        if ex.ending != "open":
            return
        stalled = ex.body_length == before
        if stalled or time.monotonic() - t0 > cap:
            conn._end("timeout", f"no body byte for {idle:g} s" if stalled else f"body not finished in {cap:g} s")
            return


def require_status(ex: Exchange, status: int | tuple[int, ...]) -> None:
    """The response has a head with one of the allowed statuses; else say exactly what arrived."""
    allowed = (status,) if isinstance(status, int) else status
    what = f"{ex.method} {ex.target.split('?')[0]}"
    if ex.status is None:
        raise AssertionError(f"{what} got no response head ({ex.ending}: {ex.error or 'nothing arrived'})")
    if ex.status not in allowed:
        raise AssertionError(f"{what} answered {ex.status}, expected {' or '.join(map(str, allowed))}; body starts "
                             f"{ex.body[:160]!r}")


def resources(target: Target) -> dict:
    """``{"open": [...], "opened": {path: count}, "store": [{"state", "rx", "tx"}]}`` from the probe."""
    return target.probe.resources()


def open_count(target: Target, rel: str) -> int:
    return resources(target)["open"].count(rel)


def wait_until(check, timeout: float, poll: float = 0.05):
    """Call ``check()`` until it returns a true value or ``timeout`` passes; (last value, seconds taken)."""
    t0 = time.monotonic()
    while True:
        value = check()
        if value or time.monotonic() - t0 >= timeout:
            return value, time.monotonic() - t0
        time.sleep(poll)


def private_memory(target: Target) -> int:
    """The server's resident anonymous memory (RSS minus file-backed pages, so a server that maps the
    file it sends is not charged for the page cache), summed over its processes."""
    total = 0
    for pid in target.process.pids():
        try:
            info = psutil.Process(pid).memory_info()
        except psutil.Error:
            continue
        total += info.rss - getattr(info, "shared", 0)
    return total


class MemoryWatch:
    """Samples the server's private memory every 50 ms in a thread; ``peak`` over the baseline."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.baseline = private_memory(target)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, private_memory(self.target))

    @property
    def growth(self) -> int:
        return self.peak - self.baseline

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(1)
        self.peak = max(self.peak, private_memory(self.target))
        return self.growth
