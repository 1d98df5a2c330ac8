"""The scenario contract: what a /stream request asks for, and the exact bytes it must produce.

Sans-IO on purpose: the server side turns query parameters into a `StreamPlan` and asks it for chunk
bytes; the client side builds the same plan to know, without the server's help, which bytes must arrive
in which order. Both sides therefore agree on the body by construction.

Query parameters of ``GET /stream`` (all optional):

==============  ===========================================================================
``id``          request id; the probe records the producer's life under it
``n``           number of chunks (default 4)
``size``        bytes per chunk (default 16)
``sizes``       comma-separated per-chunk sizes; overrides ``n`` and ``size``
``delay``       milliseconds the producer waits before each chunk (default 0)
``cl``          ``1`` to declare Content-Length (the total) instead of chunked coding
``empty_every`` every k-th chunk (k, 2k, ...) is an empty write (default 0: never)
``raise_after`` the producer raises instead of producing chunk k (0: before chunk 0,
                after the headers)
``fail_start``  ``1`` to fail before the response starts (must give a complete 500)
``hold``        ``1``: after starting, the producer waits (at most 10 s) until the client sends
                ``GET /probe?id=release:<id>`` before its first chunk (``streamspec.probe``)
``raise_as``    what the producer raises for ``raise_after``/``fail_start``: ``exception`` (default,
                a plain exception: 500 before the head) or ``http`` (the framework's own HTTP error
                type with status 503, which the adapter supplies: 503 before the head)
==============  ===========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping
from urllib.parse import urlencode

_CYCLE = bytes(range(256)) * 2

RAISE_AS = ("exception", "http")
HTTP_ERROR_STATUS = 503  # the status of ``raise_as=http``: distinct from 500, so honouring it shows

MAX_TOTAL = 256 * 1024 * 1024  # refuse plans above 256 MiB: a typo must not exhaust the server


class PlanError(ValueError):
    """The query does not describe a valid plan (answered with 400)."""


def chunk_bytes(index: int, size: int) -> bytes:
    """Bytes of chunk ``index``: a 256-byte cycle whose phase depends on the index.

    Neighbouring chunks start at different phases, so a dropped, duplicated or reordered chunk of the
    same size changes the reassembled body and is caught by a plain byte comparison.
    """
    if size <= 0:
        return b""
    seed = (index * 37 + 11) % 256
    block = _CYCLE[seed : seed + 256]
    reps = size // 256 + 1
    return (block * reps)[:size]


@dataclass(frozen=True)
class StreamPlan:
    """One stream request, as both server and client understand it."""

    request_id: str = ""
    sizes: tuple[int, ...] = (16, 16, 16, 16)
    delay_ms: float = 0.0
    content_length: bool = False
    empty_every: int = 0
    raise_after: int | None = None
    fail_start: bool = False
    raise_as: str = "exception"
    hold: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    # -- what the server produces --------------------------------------------------------------
    def size_of(self, index: int) -> int:
        if self.empty_every and (index + 1) % self.empty_every == 0:
            return 0
        return self.sizes[index]

    def chunk(self, index: int) -> bytes:
        return chunk_bytes(index, self.size_of(index))

    @property
    def chunk_count(self) -> int:
        return len(self.sizes)

    @cached_property
    def total(self) -> int:
        """Bytes of the complete body (what Content-Length declares when ``cl=1``)."""
        return sum(self.size_of(i) for i in range(self.chunk_count))

    # -- what the client expects -----------------------------------------------------------------
    def produced_before_raise(self) -> int:
        """How many chunks exist before the producer raises (all of them when it never raises)."""
        if self.raise_after is None:
            return self.chunk_count
        return min(self.raise_after, self.chunk_count)

    def expected_body(self, upto: int | None = None) -> bytes:
        """The body a client must reassemble (the first ``upto`` chunks when given)."""
        count = self.chunk_count if upto is None else upto
        return b"".join(self.chunk(i) for i in range(count))

    def expected_slice(self, start: int, end: int) -> bytes:
        """Body bytes ``start:end`` computed chunk by chunk, without building the whole body."""
        out, pos = [], 0
        for i in range(self.chunk_count):
            size = self.size_of(i)
            if pos + size > start and pos < end:
                data = self.chunk(i)
                out.append(data[max(0, start - pos): min(size, end - pos)])
            pos += size
            if pos >= end:
                break
        return b"".join(out)

    def chunk_ends(self) -> list[int]:
        """Body offset just past each chunk: where chunk i's last byte lands in the body."""
        ends, pos = [], 0
        for i in range(self.chunk_count):
            pos += self.size_of(i)
            ends.append(pos)
        return ends

    # -- round trip through a URL ----------------------------------------------------------------
    def query(self) -> str:
        params: dict[str, str] = {}
        if self.request_id:
            params["id"] = self.request_id
        if len(set(self.sizes)) <= 1 and self.sizes:
            params["n"] = str(len(self.sizes))
            params["size"] = str(self.sizes[0])
        elif not self.sizes:
            params["n"] = "0"
        else:
            params["sizes"] = ",".join(str(s) for s in self.sizes)
        if self.delay_ms:
            params["delay"] = f"{self.delay_ms:g}"
        if self.content_length:
            params["cl"] = "1"
        if self.empty_every:
            params["empty_every"] = str(self.empty_every)
        if self.raise_after is not None:
            params["raise_after"] = str(self.raise_after)
        if self.fail_start:
            params["fail_start"] = "1"
        if self.raise_as != "exception":
            params["raise_as"] = self.raise_as
        if self.hold:
            params["hold"] = "1"
        params.update(self.extra)
        return urlencode(params)

    def target(self, path: str = "/stream") -> str:
        return f"{path}?{self.query()}"

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "StreamPlan":
        """Parse query parameters (first value of each) into a plan; raise PlanError when invalid."""
        try:
            if "sizes" in query:
                text = query["sizes"].strip()
                sizes = tuple(int(s) for s in text.split(",")) if text else ()
            else:
                sizes = (int(query.get("size", 16)),) * int(query.get("n", 4))
            delay = float(query.get("delay", 0))
            empty_every = int(query.get("empty_every", 0))
            raise_after = int(query["raise_after"]) if "raise_after" in query else None
        except ValueError as exc:
            raise PlanError(f"bad stream parameter: {exc}") from None
        if any(s < 0 for s in sizes) or delay < 0 or empty_every < 0:
            raise PlanError("sizes, delay and empty_every must not be negative")
        if raise_after is not None and raise_after < 0:
            raise PlanError("raise_after must not be negative")
        raise_as = query.get("raise_as", "exception")
        if raise_as not in RAISE_AS:
            raise PlanError(f"raise_as must be one of {', '.join(RAISE_AS)}")
        plan = cls(
            request_id=query.get("id", ""),
            sizes=sizes,
            delay_ms=delay,
            content_length=query.get("cl", "0") == "1",
            empty_every=empty_every,
            raise_after=raise_after,
            fail_start=query.get("fail_start", "0") == "1",
            raise_as=raise_as,
            hold=query.get("hold", "0") == "1",
        )
        if plan.total > MAX_TOTAL:
            raise PlanError(f"plan asks for {plan.total} bytes; the limit is {MAX_TOTAL}")
        return plan


class BodyChecker:
    """Compares arriving body bytes with the contract's bytes at the same offsets, chunk by chunk.

    Sans-IO and incremental: it keeps the current chunk only, so a 256 MiB stream is checked in constant
    memory. Shared by the conformance wire client and the load users: every byte either reads is judged.
    A checker of other expected bytes (a file's: ``conformance/expected.py``) subclasses it for the
    bookkeeping (``corrupt``, ``first_bad``, ``missing``, ``describe``) and overrides ``feed``.
    """

    SOURCE = "the contract"  # where the expected bytes come from, for the failure message

    def __init__(self, plan: StreamPlan) -> None:
        self.plan = plan
        self.ends = plan.chunk_ends()
        self.total = plan.total
        self.received = 0
        self.corrupt = 0  # bytes that differ from the contract (or arrive past its end)
        self.first_bad: int | None = None  # body offset of the first such byte
        self._index = 0
        self._chunk = plan.chunk(0) if plan.chunk_count else b""

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.received >= self.total:
                self._bad(self.received, len(view))
                self.received += len(view)
                return
            while self.ends[self._index] <= self.received:
                self._index += 1
                self._chunk = self.plan.chunk(self._index)
            offset = self.received - (self.ends[self._index] - len(self._chunk))
            take = min(len(view), len(self._chunk) - offset)
            if view[:take] != self._chunk[offset:offset + take]:
                wrong = next(i for i in range(take) if view[i] != self._chunk[offset + i])
                self._bad(self.received + wrong, take - wrong)
            self.received += take
            view = view[take:]

    def _bad(self, offset: int, count: int) -> None:
        self.corrupt += count
        if self.first_bad is None:
            self.first_bad = offset

    @property
    def missing(self) -> int:
        return max(0, self.total - self.received)

    def describe(self) -> str:
        """One line for a failure message ('' when every byte so far matched the contract)."""
        if not self.corrupt:
            return ""
        if self.first_bad is not None and self.first_bad >= self.total:
            return (f"{self.received - self.total} bytes arrived past the end of the {self.total}-byte "
                    f"body {self.SOURCE} defines")
        return (f"{self.corrupt} of {self.received} body bytes differ from {self.SOURCE}, the first at "
                f"offset {self.first_bad} (duplicated, reordered, dropped or corrupted data)")
