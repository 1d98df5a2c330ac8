"""Ask the server's probe what its producer did, in the client's clock.

The server's times are its own ``time.monotonic()``. ``ProbeClient.sync()`` estimates the offset the
NTP way (take the sample with the smallest round trip; the error is at most half that round trip),
so every comparison between a client time and a server time is made with a known error bar, on one
host or across hosts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


import httpx

from streamspec import http_client
from streamspec.probe import BRIEF_PREFIX, RELEASE_PREFIX


class ProbeUnanswered(AssertionError):
    """The server under test did not answer a probe request in time: a failure of the server (its event
    loop was blocked, e.g. by a producer that never waits, or it was busy with what an earlier request
    left running), said in a sentence rather than as the HTTP client's bare ``ReadTimeout``. An
    ``AssertionError``, so that a case an adapter is expected to fail still counts as that expected
    failure when the server's blocked loop shows first as an unanswered probe."""


@dataclass
class ProducerView:
    """A probe record translated into client time."""

    events: list[dict]

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["kind"] == kind]

    def first(self, kind: str) -> dict | None:
        found = self.of(kind)
        return found[0] if found else None

    @property
    def chunks(self) -> list[dict]:
        return self.of("chunk")

    @property
    def produced_bytes(self) -> int:
        return sum(e["size"] for e in self.chunks)

    def chunk_time(self, index: int) -> float | None:
        for e in self.chunks:
            if e["index"] == index:
                return e["t"]
        return None

    @property
    def cleanup_time(self) -> float | None:
        e = self.first("cleanup")
        return e["t"] if e else None


class ProbeClient:
    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.http = http_client.client(base_url, timeout)
        self.timeout = timeout
        self.offset = 0.0  # server_time - client_time
        self.error = 0.0  # half the best round trip

    def close(self) -> None:
        self.http.close()

    def ask(self, params: dict | None = None) -> httpx.Response:
        """``GET /probe`` (with ``params``): its answer, or ``ProbeUnanswered`` when none came in time."""
        try:
            response = self.http.get("/probe", params=params)
        except httpx.TimeoutException as exc:
            what = f"GET /probe?id={params['id']}" if params else "GET /probe"
            raise ProbeUnanswered(f"the server did not answer {what} within {self.timeout:g} s "
                                  f"({type(exc).__name__}): its event loop was blocked or busy") from None
        response.raise_for_status()
        return response

    def summary(self) -> dict:
        response = self.ask()
        return response.json()

    def resources(self, only: str = "") -> dict:
        """What the server process holds now (``streamspec/resources.py``): ``open`` fixture files, ``opened``
        counts per path, ``store`` connections; ``only="open"`` asks for the open files alone (cheap)."""
        response = self.ask({"id": "resources:" + only})
        return response.json()["resources"]

    def sync(self, samples: int = 7) -> None:
        best = None
        for _ in range(samples):
            t0 = time.monotonic()
            server_now = self.summary()["now"]
            t1 = time.monotonic()
            if best is None or t1 - t0 < best[0]:
                best = (t1 - t0, server_now - (t0 + t1) / 2)
        self.error, self.offset = best[0] / 2, best[1]

    def record(self, request_id: str, release: bool = False) -> ProducerView | None:
        """The producer's diary; with ``release`` the server first lets a held producer (``hold=1``) go
        on, and the diary is as it was at that moment."""
        query_id = RELEASE_PREFIX + request_id if release else request_id
        response = self.ask({"id": query_id})
        rec = response.json().get("record")
        if rec is None:
            return None
        events = [{**e, "t": e["t"] - self.offset} for e in rec["events"]]
        return ProducerView(events)

    def group(self, prefix: str) -> dict:
        """``{"records", "cleaned", "finished", "chunks", "quiet_s"}`` over the requests whose id starts
        with ``prefix`` (``streamspec/probe.py``)."""
        response = self.ask({"id": prefix + "*"})
        return response.json().get("group") or {"records": 0, "cleaned": 0}

    def brief(self, request_id: str) -> tuple[ProducerView, int] | None:
        """The diary without its chunk events, and how many chunks it has: cheap to poll."""
        response = self.ask({"id": BRIEF_PREFIX + request_id})
        rec = response.json().get("record")
        if rec is None:
            return None
        events = [{**e, "t": e["t"] - self.offset} for e in rec["events"]]
        return ProducerView(events), int(rec.get("chunks", 0))

    def wait_for(self, request_id: str, kind: str, timeout: float, poll: float = 0.02) -> ProducerView | None:
        """Poll (briefly) until the record has an event of ``kind``; return the whole record either way."""
        deadline = time.monotonic() + timeout
        while True:
            brief = self.brief(request_id)
            seen = brief is not None and (brief[1] > 0 if kind == "chunk" else brief[0].first(kind) is not None)
            if seen or time.monotonic() >= deadline:
                return self.record(request_id)
            time.sleep(poll)

    def wait_stable(self, request_id: str, quiet: float = 0.4, timeout: float = 6.0) -> ProducerView | None:
        """Poll until the producer made no new chunk for ``quiet`` seconds (or it ended); the whole
        record then."""
        deadline = time.monotonic() + timeout
        last_count, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            brief = self.brief(request_id)
            count = brief[1] if brief else 0
            now = time.monotonic()
            if count != last_count:
                last_count, last_change = count, now
            elif now - last_change >= quiet:
                break
            if brief and brief[0].first("cleanup") is not None:
                break
            time.sleep(0.05)
        return self.record(request_id)
