"""Range and conditional request logic of the reference file server (RFC 9110 §13, §14), sans-IO.

Server side only: the conformance cases compute what they expect from the files and their own reading of
the RFC, never from this module, so a mistake here fails the reference instead of hiding in both.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass

#: More ranges than this in one request are ignored (a full 200): RFC 9110 §14.2 lets a server ignore a
#: range set that is "many small ranges", and answering 10,000 parts is an amplification.
MAX_RANGES = 64

_SPEC = re.compile(r"^(\d*)-(\d*)$")


@dataclass(frozen=True)
class Validators:
    etag: str  # strong, quoted
    last_modified: str  # IMF-fixdate
    mtime: int  # whole seconds


def validators(size: int, mtime_ns: int) -> Validators:
    mtime = mtime_ns // 1_000_000_000
    return Validators(f'"{size:x}-{mtime_ns:x}"', email.utils.formatdate(mtime, usegmt=True), mtime)


def _tags(value: str) -> list[str]:
    return [t.strip() for t in value.split(",") if t.strip()]


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _date(value: str) -> int | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return int(parsed.timestamp()) if parsed is not None and parsed.tzinfo is not None else None


def not_modified(headers: dict[str, str], v: Validators) -> bool:
    """RFC 9110 §13.2.2 steps 3 and 4 for GET/HEAD: If-None-Match (weak comparison, ``*`` matches any
    current representation); If-Modified-Since only when there is no If-None-Match."""
    inm = headers.get("if-none-match")
    if inm is not None:
        tags = _tags(inm)
        return "*" in tags or any(_opaque(t) == _opaque(v.etag) for t in tags)
    ims = headers.get("if-modified-since")
    if ims is not None:
        since = _date(ims)
        return since is not None and v.mtime <= since
    return False


def if_range_holds(headers: dict[str, str], v: Validators) -> bool:
    """RFC 9110 §13.1.5: the Range applies only when If-Range is absent or matches: an entity tag by
    strong comparison (a weak tag never matches), a date by exact equality with Last-Modified."""
    value = headers.get("if-range")
    if value is None:
        return True
    value = value.strip()
    if value.startswith('"') or value.startswith("W/"):
        return not value.startswith("W/") and value == v.etag
    since = _date(value)
    return since is not None and since == v.mtime


def parse_ranges(value: str, size: int) -> list[tuple[int, int]] | None:
    """The satisfiable ranges (inclusive ends, clamped) of a ``Range`` value; None when it is to be
    ignored (another unit, invalid syntax, too many ranges); [] when none is satisfiable (416)."""
    unit, sep, rest = value.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    specs = [s.strip() for s in rest.split(",")]
    if not specs or len(specs) > MAX_RANGES:
        return None
    out = []
    for spec in specs:
        match = _SPEC.match(spec)
        if match is None or (not match[1] and not match[2]):
            return None
        if match[1]:
            first = int(match[1])
            last = int(match[2]) if match[2] else size - 1
            if match[2] and last < first:
                return None
            if first < size:
                out.append((first, min(last, size - 1)))
        else:
            suffix = int(match[2])
            if suffix > 0 and size > 0:
                out.append((max(0, size - suffix), size - 1))
    return out


def coalesce(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or adjacent ranges merged, in order (RFC 9110 §14.2: a server MAY coalesce). Only used
    when the set overlaps: disjoint ranges keep the client's order."""
    ordered = sorted(ranges)
    overlaps = any(b[0] <= a[1] + 1 for a, b in zip(ordered, ordered[1:]))
    if not overlaps:
        return ranges
    merged = [ordered[0]]
    for first, last in ordered[1:]:
        if first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def multipart_heads(ranges: list[tuple[int, int]], size: int, media_type: str, boundary: str) -> tuple[list[bytes], bytes]:
    """The bytes before each part's data and the closing delimiter of a ``multipart/byteranges`` body
    (RFC 9110 §14.6, RFC 2046 §5.1.1: CRLF line ends, the delimiter on a line of its own)."""
    heads = []
    for i, (first, last) in enumerate(ranges):
        lead = b"" if i == 0 else b"\r\n"
        heads.append(lead + (f"--{boundary}\r\nContent-Type: {media_type}\r\n"
                             f"Content-Range: bytes {first}-{last}/{size}\r\n\r\n").encode("latin-1"))
    return heads, f"\r\n--{boundary}--\r\n".encode("latin-1")
