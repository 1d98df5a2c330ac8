"""The reference's file downloads: ``/file/<name>`` (a complete file server: ranges, conditionals) and
``/file-stream/<name>`` (the plain streamed download: the whole file, no ranges), with correct semantics.

What "correct" means here, each point checked by ``conformance/test_files.py``:

* a name is one path segment, percent-decoded once; a name that decodes to a separator, a NUL, ``.``/``..``
  or resolves (symlinks followed) outside the root is not found (404), and nothing outside is opened;
* the file is opened once and its size taken from that descriptor: the headers describe what is sent;
* ``Content-Length`` is the size; exactly that many bytes are sent. A file that shrinks while it is sent
  ends the response early with an error (the server aborts the connection: a visible truncation); a file
  that grows is sent up to the declared length and no further;
* ``Content-Disposition: attachment`` with an ASCII ``filename`` (non-ASCII, quotes and backslashes
  replaced by ``_``) and the exact name in RFC 8187 ``filename*``;
* chunks go out one ``send`` at a time through the same pump as ``/stream`` (backpressure, disconnect
  watching), and the file is closed in the producer's ``finally`` (abort included).
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
import secrets
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

from streamspec.files import served_root

from . import ranges as R
from .asgi import send_whole

READ_SIZE = 64 * 1024


def name_from(scope: dict, prefix: str) -> str | None:
    """The file name of ``<prefix><name>`` (raw path, decoded once), or None when it is not one plain
    segment."""
    raw = scope.get("raw_path") or scope["path"].encode("utf-8")
    raw = raw.split(b"?", 1)[0]
    tail = raw[len(prefix.encode()):]
    if not tail or b"/" in tail:
        return None
    try:
        name = unquote_to_bytes(tail).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if name in (".", "..") or any(c in name for c in "/\\\0"):
        return None
    return name


def resolve(name: str | None) -> Path | None:
    """The file to serve, or None: the name must resolve (symlinks followed) to a regular file inside
    the root."""
    root = served_root()
    if name is None or root is None:
        return None
    real_root = Path(os.path.realpath(root))
    real = Path(os.path.realpath(real_root / name))
    if real_root not in real.parents or not real.is_file():
        return None
    return real


def disposition(name: str) -> bytes:
    """``attachment; filename="<ascii>"; filename*=UTF-8''<pct>`` (RFC 6266 §4.3, RFC 8187 §3.2)."""
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}".encode("ascii")


def media_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


async def read_span(fh, start: int, length: int):
    """Yield ``length`` bytes of ``fh`` from ``start`` in READ_SIZE pieces; raise when the file ends first
    (it shrank while being sent: the only honest answer is a visible truncation)."""
    fh.seek(start)
    left = length
    while left:
        data = await asyncio.to_thread(fh.read, min(READ_SIZE, left))
        if not data:
            raise OSError(f"the file ended {left} bytes before its declared length")
        left -= len(data)
        yield data


async def file_body(fh, pieces):
    """The body: literal bytes and file spans in order; the file is closed however this ends."""
    try:
        for piece in pieces:
            if isinstance(piece, bytes):
                yield piece
            else:
                async for data in read_span(fh, *piece):
                    yield data
    finally:
        fh.close()


class FileRoutes:
    """The two download routes; ``handler`` is the reference's StreamHandler (its pump delivers)."""

    def __init__(self, handler) -> None:
        self.handler = handler

    async def native(self, scope, receive, send) -> None:
        await self._serve(scope, receive, send, "/file/", ranged=True)

    async def streamed(self, scope, receive, send) -> None:
        await self._serve(scope, receive, send, "/file-stream/", ranged=False)

    async def _serve(self, scope, receive, send, prefix: str, ranged: bool) -> None:
        name = name_from(scope, prefix)
        path = resolve(name)
        if path is None:
            await send_whole(send, 404, b"not found\n")
            return
        fh = open(path, "rb")
        try:
            await self._answer(scope, receive, send, fh, name, ranged)
        finally:
            fh.close()  # closing twice is harmless; the body's finally closes it on its own path too

    async def _answer(self, scope, receive, send, fh, name: str, ranged: bool) -> None:
        stat = os.fstat(fh.fileno())
        size = stat.st_size
        ctype = media_type(name)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        common = [(b"content-disposition", disposition(name))]
        status, pieces, length = 200, [(0, size)], size
        out_type = ctype
        if ranged:
            v = R.validators(size, stat.st_mtime_ns)
            common += [(b"accept-ranges", b"bytes"), (b"etag", v.etag.encode()),
                       (b"last-modified", v.last_modified.encode())]
            if R.not_modified(headers, v):
                await send({"type": "http.response.start", "status": 304, "headers": common})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            wanted = R.parse_ranges(headers["range"], size) if "range" in headers and R.if_range_holds(headers, v) \
                else None
            if wanted == []:
                await send_whole(send, 416, b"range not satisfiable\n",
                                 headers=[(b"content-range", f"bytes */{size}".encode())])
                return
            if wanted:
                wanted = R.coalesce(wanted)
                status = 206
                if len(wanted) == 1:
                    first, last = wanted[0]
                    pieces, length = [(first, last - first + 1)], last - first + 1
                    common.append((b"content-range", f"bytes {first}-{last}/{size}".encode()))
                else:
                    boundary = secrets.token_hex(12)
                    heads, tail = R.multipart_heads(wanted, size, ctype, boundary)
                    pieces = []
                    for head, (first, last) in zip(heads, wanted):
                        pieces += [head, (first, last - first + 1)]
                    pieces.append(tail)
                    length = sum(len(p) if isinstance(p, bytes) else p[1] for p in pieces)
                    out_type = f"multipart/byteranges; boundary={boundary}"
        head = [(b"content-type", out_type.encode()), (b"content-length", str(length).encode()), *common]
        await self.handler.start(send, status, head)
        if scope["method"] == "HEAD":
            await self.handler.finish(send)
            return
        await self.handler.deliver(file_body(fh, pieces), send, receive)
