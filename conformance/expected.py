"""Expected bytes read from the fixture files themselves: a checker for a download, like the stream's.

``SliceChecker`` has ``BodyChecker``'s interface (``feed``, ``received``, ``corrupt``, ``describe``), so
the wire client checks a download's every byte as it arrives, in constant memory: the file is mapped,
not read. The expected bytes come from the file on disk, never from code a server could share.
"""

from __future__ import annotations

import mmap
from pathlib import Path

from streamspec.contract import BodyChecker


def file_bytes(path: Path) -> memoryview:
    """The file's bytes, mapped read-only (an empty file is an empty view)."""
    with open(path, "rb") as fh:
        if fh.seek(0, 2) == 0:
            return memoryview(b"")
        return memoryview(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))


class SliceChecker(BodyChecker):
    """Compares arriving body bytes with ``source[start:start + length]`` at the same offsets (the
    bookkeeping and the failure message are ``BodyChecker``'s)."""

    SOURCE = "the file"

    def __init__(self, source: memoryview, start: int = 0, length: int | None = None) -> None:
        end = len(source) if length is None else start + length
        self.view = source[start:end]
        self.total = len(self.view)
        self.received = 0
        self.corrupt = 0
        self.first_bad: int | None = None

    def feed(self, data: bytes) -> None:
        take = max(0, min(len(data), self.total - self.received))
        if take and bytes(self.view[self.received:self.received + take]) != data[:take]:
            expected = self.view[self.received:self.received + take]
            wrong = next(i for i in range(take) if expected[i] != data[i])
            self._bad(self.received + wrong, take - wrong)
        if len(data) > take:
            self._bad(self.received + take, len(data) - take)
        self.received += len(data)
