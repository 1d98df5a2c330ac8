"""A strict reader of ``multipart/byteranges`` bodies (RFC 9110 §14.6, RFC 2046 §5.1.1), sans-IO.

Strict where a client would break: CRLF line ends everywhere (a bare LF is an error), the boundary the
``Content-Type`` declared, a ``Content-Range`` of the form ``bytes first-last/complete`` in every part.
A preamble and an epilogue are allowed (RFC 2046), and part header names are case-insensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+|\*)$")


class Malformed(AssertionError):
    """The body is not a well-formed multipart/byteranges body (the message says where)."""


@dataclass(frozen=True)
class Part:
    first: int
    last: int
    complete: int | None
    content_type: str | None
    data: bytes


def boundary_of(content_type: str) -> str:
    media, _, params = content_type.partition(";")
    if media.strip().lower() != "multipart/byteranges":
        raise Malformed(f"Content-Type {content_type!r} is not multipart/byteranges")
    match = re.search(r'boundary=("([^"]+)"|[^;\s]+)', params, re.I)
    if not match:
        raise Malformed(f"Content-Type {content_type!r} declares no boundary")
    return match.group(2) or match.group(1)


def content_range(value: str | None) -> tuple[int, int, int | None]:
    match = _RANGE.match((value or "").strip())
    if not match:
        raise Malformed(f"Content-Range {value!r} is not 'bytes first-last/length'")
    first, last = int(match[1]), int(match[2])
    if last < first:
        raise Malformed(f"Content-Range {value!r} ends before it starts")
    return first, last, None if match[3] == "*" else int(match[3])


def parse(body: bytes, content_type: str) -> list[Part]:
    """The parts, in order; Malformed when anything is off."""
    boundary = boundary_of(content_type).encode("latin-1")
    delimiter = b"--" + boundary
    start = 0 if body.startswith(delimiter) else body.find(b"\r\n" + delimiter)
    if start < 0:
        raise Malformed(f"the declared boundary {boundary!r} never appears in the body")
    pos = start + (0 if start == 0 and body.startswith(delimiter) else 2)
    parts = []
    while True:
        pos += len(delimiter)
        if body[pos:pos + 2] == b"--":
            return parts
        if body[pos:pos + 2] != b"\r\n":
            raise Malformed(f"the boundary at offset {pos - len(delimiter)} is not followed by CRLF or '--'")
        head_end = body.find(b"\r\n\r\n", pos + 2)
        if head_end < 0:
            raise Malformed(f"part {len(parts) + 1} has no end of its header block")
        block = body[pos + 2:head_end]
        if b"\n" in block.replace(b"\r\n", b""):
            raise Malformed(f"part {len(parts) + 1}'s header block has a bare LF (no CR before it): {block[:120]!r}")
        headers = {}
        for line in block.split(b"\r\n"):
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise Malformed(f"part {len(parts) + 1} has a header line without ':': {line!r}")
            headers[name.strip().lower()] = value.strip()
        first, last, complete = content_range(headers.get("content-range"))
        data_start = head_end + 4
        data_end = data_start + (last - first + 1)
        if body[data_end:data_end + 2 + len(delimiter)] != b"\r\n" + delimiter:
            raise Malformed(f"part {len(parts) + 1} ({headers.get('content-range')}) is not followed by CRLF and "
                            f"the boundary after its {last - first + 1} bytes: {body[data_end:data_end + 40]!r}")
        parts.append(Part(first, last, complete, headers.get("content-type"), body[data_start:data_end]))
        pos = data_end + 2
