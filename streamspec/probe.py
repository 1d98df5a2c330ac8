"""The probe: a per-request diary of what the server's producer did, served back as JSON.

Abort and backpressure cannot be judged from the client alone: only the server knows whether its
producer ran ahead, kept going after the client left, or ran its ``finally``. Each producer writes
timestamped events here under its request id, and ``GET /probe?id=...`` returns them.

Times are ``time.monotonic()`` in the server process. On one host that clock is shared by all
processes, but the suite never relies on it: ``GET /probe`` returns the server's ``now`` so the client
can estimate the clock offset (NTP style) and compare times within a known error, which also works when
the server runs on another host.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import OrderedDict
from typing import Any

from . import resources

MAX_RECORDS = 4096  # oldest records are forgotten first; a long load run must not grow memory
#: ``GET /probe?id=release:<id>`` releases the producer of ``<id>`` held by ``hold=1`` (see ``held``).
RELEASE_PREFIX = "release:"
#: ``GET /probe?id=brief:<id>``: the record without its ``chunk`` events, plus their count (``chunks``). What
#: a client polls while it waits: a record of thousands of chunks is not serialized 50 times a second.
BRIEF_PREFIX = "brief:"
#: ``GET /probe?id=resources:`` answers what the process holds (``streamspec.resources``): open fixture
#: files, paths it opened inside the fixture tree, connections to the store.
RESOURCES_ID = "resources:"
#: A held producer goes on by itself after this long, so a client that never releases it leaks nothing.
HOLD_MAX_S = 10.0
#: Distributions whose versions every probe reports when installed in the server's interpreter; the
#: launcher adds the adapter's own through ``STREAMSPEC_PACKAGES`` (comma-separated).
KNOWN_PACKAGES = ("uvicorn", "h11", "httptools", "hypercorn", "granian")
_VERSIONS: dict[str, str] | None = None


def server_versions() -> dict[str, str]:
    """Versions as the *server's* interpreter sees them: the server may run from another environment
    than the suite (``--python``), and only it knows what it imported."""
    global _VERSIONS
    if _VERSIONS is None:
        from importlib.metadata import PackageNotFoundError, version

        names = [n for n in os.environ.get("STREAMSPEC_PACKAGES", "").split(",") if n]
        server = os.environ.get("STREAMSPEC_SERVER", "")
        out = {"python": sys.version.split()[0]}
        for name in dict.fromkeys([*names, server, *KNOWN_PACKAGES]):
            if not name:
                continue
            try:
                out[name] = version(name)
            except PackageNotFoundError:
                if name in names:
                    out[name] = "not installed"
        _VERSIONS = out
    return _VERSIONS


class ProbeRecord:
    """Events of one producer, in the order they happened."""

    __slots__ = ("request_id", "events", "counters")

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.events: list[dict[str, Any]] = []
        #: live totals a long-running handler updates in place (an upload's bytes so far), where one event
        #: per step would grow without bound
        self.counters: dict[str, Any] = {}

    def add(self, kind: str, **fields: Any) -> None:
        self.events.append({"kind": kind, "t": time.monotonic(), **fields})

    def as_json(self) -> dict[str, Any]:
        return {"id": self.request_id, "events": list(self.events), "counters": dict(self.counters)}

    def brief_json(self) -> dict[str, Any]:
        events = [e for e in self.events if e["kind"] != "chunk"]
        return {"id": self.request_id, "events": events, "chunks": len(self.events) - len(events),
                "counters": dict(self.counters)}


class ProbeRegistry:
    """All records of one server process, plus counters of producers alive right now."""

    def __init__(self) -> None:
        self._records: "OrderedDict[str, ProbeRecord]" = OrderedDict()
        self._released: "OrderedDict[str, None]" = OrderedDict()
        self.started = 0
        self.cleaned = 0

    def record(self, request_id: str) -> ProbeRecord:
        """A fresh record for ``request_id`` (an empty id gets a private record nobody can query)."""
        rec = ProbeRecord(request_id)
        if request_id:
            self._records[request_id] = rec
            self._records.move_to_end(request_id)
            while len(self._records) > MAX_RECORDS:
                self._records.popitem(last=False)
        return rec

    def producer_started(self) -> None:
        self.started += 1

    def producer_cleaned(self) -> None:
        self.cleaned += 1

    def release(self, request_id: str) -> None:
        self._released[request_id] = None
        while len(self._released) > MAX_RECORDS:
            self._released.popitem(last=False)

    async def held(self, record: ProbeRecord, max_s: float = HOLD_MAX_S) -> None:
        """Wait, before producing anything, until the client releases this request.

        This turns "did the head arrive before the body was produced?" into an ordering the client
        controls instead of a race against a timer: the head must arrive while the producer is provably
        waiting (``held`` in the diary, no ``released`` yet), however slow the machine. It polls rather
        than awaiting an event so it works on any event loop an adapter runs."""
        record.add("held")
        deadline = time.monotonic() + max_s
        while record.request_id not in self._released:
            if time.monotonic() >= deadline:
                record.add("hold-expired")
                return
            await asyncio.sleep(0.005)
        record.add("released")

    def snapshot(self, request_id: str | None) -> dict[str, Any]:
        """The JSON answer of ``GET /probe`` (summary) or ``GET /probe?id=X`` (one record); for
        ``id=release:X`` it first releases X's held producer, for ``id=brief:X`` it leaves out the chunk
        events (every adapter serves these unchanged: they are ids to it)."""
        brief = False
        if request_id and request_id.startswith(RESOURCES_ID):
            # ``resources:`` everything; ``resources:open`` only the fixture files open now (what the runner
            # asks after every case: the store's part reads the machine's whole TCP table)
            only = request_id[len(RESOURCES_ID):]
            view = {"open": resources.open_files()} if only == "open" else resources.snapshot()
            return {"now": time.monotonic(), "pid": os.getpid(), "resources": view}
        if request_id and request_id.startswith(RELEASE_PREFIX):
            request_id = request_id[len(RELEASE_PREFIX):]
            self.release(request_id)
        elif request_id and request_id.startswith(BRIEF_PREFIX):
            request_id, brief = request_id[len(BRIEF_PREFIX):], True
        body: dict[str, Any] = {
            "now": time.monotonic(),
            "pid": os.getpid(),
            "started": self.started,
            "active": self.started - self.cleaned,
        }
        if request_id and request_id.endswith("*"):
            # A group of requests sharing an id prefix (``id=many-1a2b-*``): how many of them started and
            # how many ran their cleanup, so a case can count its own producers, not the server's.
            prefix = request_id[:-1]
            group = [r for key, r in self._records.items() if key.startswith(prefix)]
            # ``chunks`` (and ``fewest_chunks`` of one producer), ``finished`` (producers that made their last
            # chunk) and ``quiet_s`` (seconds since the group's latest chunk, in the server's own clock): a case
            # proves its streams are running, or have settled, without one probe request per stream.
            chunk_times = [e["t"] for r in group for e in r.events if e["kind"] == "chunk"]
            per_record = [sum(1 for e in r.events if e["kind"] == "chunk") for r in group]
            body["group"] = {"records": len(group),
                             "cleaned": sum(1 for r in group if any(e["kind"] == "cleanup" for e in r.events)),
                             "finished": sum(1 for r in group if any(e["kind"] == "done" for e in r.events)),
                             "chunks": len(chunk_times),
                             "fewest_chunks": min(per_record, default=0),
                             "quiet_s": round(body["now"] - max(chunk_times), 4) if chunk_times else None}
        elif request_id:
            rec = self._records.get(request_id)
            body["record"] = (rec.brief_json() if brief else rec.as_json()) if rec else None
        else:
            body["versions"] = server_versions()
            body["executable"] = sys.executable
        return body


#: The registry of this process. Every server (reference or adapter) serves this one.
PROBE = ProbeRegistry()
resources.install()  # every server imports the probe: its file and store views come with it


class ProducerLife:
    """``with ProducerLife(record): ...`` around a producer's body records its whole life.

    ``start`` on entry; on exit how it ended (``done``, ``cancelled`` when the consuming task was
    cancelled while the producer awaited, ``closed`` when ``aclose()`` reached it at a ``yield``), then
    ``cleanup`` last, which is what the producer's ``finally`` block would do. Both producers (the byte
    stream and SSE) use it, so their probe diaries mean the same thing.
    """

    def __init__(self, record: ProbeRecord, **start_fields: Any) -> None:
        self.record = record
        self.start_fields = start_fields

    def __enter__(self) -> ProbeRecord:
        PROBE.producer_started()
        self.record.add("start", **self.start_fields)
        return self.record

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.record.add("done")
        elif issubclass(exc_type, asyncio.CancelledError):
            self.record.add("cancelled")
        elif issubclass(exc_type, GeneratorExit):
            self.record.add("closed")
        self.record.add("cleanup")
        PROBE.producer_cleaned()
        return False
