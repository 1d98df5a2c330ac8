"""Files: full downloads, HEAD, ranges, conditionals, names, traversal, aborts and memory (RFC 9110 §8.8,
§13, §14, §15.5.17; RFC 6266; RFC 8187).

Each case runs on the framework's native file response (``.native``, ``/file/<name>``) and, where the
requirement is about any download, on the hand-written streamed download its docs show (``.streamed``,
``/file-stream/<name>``). Ranges and conditionals are asked of the native response only: a hand-written
download that ignores them is legal. Every body byte is compared with the fixture file itself
(``conformance/expected.py``), never with code a server could share.
"""

from __future__ import annotations

import email.utils
import os
import re
import time
import uuid
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from streamspec.files import BY_NAME, ESCAPE_LINK, MIB, SECRET

from . import bounds, byteranges, disposition
from .cases import case, precondition
from .download_client import (PREFIX, MemoryWatch, fetch, file_path, open_count, private_memory, read_to_end, request,
                              require_status, resources, wait_until)
from .expected import SliceChecker, file_bytes
from .helpers import ms

BOTH = ("native", "streamed")
SMALL = ("empty.bin", "one.bin", "c4095.bin", "c4096.bin", "c4097.bin", "k64.bin", "notes.txt", "m10.bin")
RANGED = "k64.bin"  # 65536 bytes: the file the range cases cut
SIZE = BY_NAME[RANGED].size
#: A download of a file may add this much private memory to the server: buffers and allocator noise,
#: far below the 256 MiB a server that reads the whole file (or keeps what it sent) needs.
MEMORY_BOUND = 48 * MIB
BIG = "m256.bin"
GUARD = 1024 * MIB  # files.abort-many stops (and fails) if the server grows past this: 100 x 256 MiB is 25 GiB
BIG_BODY_S = 120.0  # the whole 256 MiB download while bytes keep coming (about 1 to 10 s here); a pause of
                   # bounds.BODY_S ends it at once
SMALL_RCVBUF = 4096
SETTLE_CAP_S = 8.0  # how long files.stalled-memory watches a server whose memory has not settled


def _bytes(files, name: str) -> memoryview:
    return file_bytes(files.tree.path(name))


def _complete_exact(ex, checker, what: str) -> None:
    """The body ended as its framing says, every byte matched, nothing is missing."""
    if checker.corrupt:
        raise AssertionError(f"{what}: {checker.describe()}")
    if ex.ending != "complete":
        raise AssertionError(f"{what}: the body did not end properly after {ex.body_length} of {checker.total} "
                             f"bytes ({ex.ending}: {ex.error})")
    if ex.body_length != checker.total:
        raise AssertionError(f"{what}: {ex.body_length} body bytes, the file has {checker.total}")


def _declared_length_ok(ex, expected: int, what: str) -> None:
    cl = ex.header("content-length")
    if cl is not None and cl.strip() != str(expected):
        raise AssertionError(f"{what}: Content-Length {cl!r}, but the body is {expected} bytes")


# -- full downloads --------------------------------------------------------------------------------

@case("files.get", "MUST", "RFC 9110 §6.4, §8.6; RFC 9112 §6.3", requires=("local-process", "files"), endpoints=("native", "streamed"))
def test_full_get(target, figures, files, endpoint):
    """"The Content-Length field ... indicates the number of octets in the content": a GET of each file
    (0 B, 1 B, one byte either side of the seed's 4096-byte chunk, 64 KiB, a text file, 10 MiB) is a 200
    whose body is exactly the file's bytes, properly ended, with a Content-Length, if sent, that equals
    the size. The empty file is a valid, complete, empty 200."""
    for name in SMALL:
        checker = SliceChecker(_bytes(files, name))
        ex = fetch(target, file_path(endpoint, name), checker=checker, timeout=bounds.BODY_S + 5)
        what = f"GET {name}"
        require_status(ex, 200)
        _declared_length_ok(ex, checker.total, what)
        _complete_exact(ex, checker, what)
    figures["files"] = len(SMALL)


@case("files.headers", "SHOULD", "RFC 9110 §8.3, §8.6", requires=("local-process", "files"), endpoints=("native", "streamed"))
def test_download_headers(target, figures, files, endpoint):
    """A download tells the client its size and type: a ``Content-Length`` (so a client shows progress and
    can tell a truncated download from a complete one) and a ``Content-Type`` whose media type is the one
    the file name implies (``text/plain`` for .txt, ``application/octet-stream`` for .bin)."""
    missing = []
    for name in ("k64.bin", "notes.txt", "empty.bin"):
        ex = fetch(target, file_path(endpoint, name), checker=SliceChecker(_bytes(files, name)))
        require_status(ex, 200)
        ctype = (ex.header("content-type") or "").split(";")[0].strip().lower()
        if ex.header("content-length") is None:
            missing.append(f"{name}: no Content-Length ({ex.header('transfer-encoding') or 'no framing header'})")
        if ctype != BY_NAME[name].media_type:
            missing.append(f"{name}: Content-Type {ex.header('content-type')!r}, expected {BY_NAME[name].media_type}")
    figures["problems"] = missing
    assert not missing, "; ".join(missing)


@case("files.head", "MUST", "RFC 9110 §9.3.2, §8.6", requires=("local-process", "files"), endpoints=("native", "streamed"))
def test_head(target, figures, files, endpoint):
    """"The HEAD method is identical to GET except that the server MUST NOT send content in the
    response", and "a server MUST NOT send Content-Length in such a response unless its field value
    equals the decimal number of octets that would have been sent in the content of a response if the
    same request had used the GET method": HEAD of a file is a 200 with no body, and a declared length
    is the file's size. (A GET on the same connection, which must get exactly the file, proves no body
    bytes followed the HEAD.)"""
    for name in ("k64.bin", "empty.bin"):
        ex = _head_then_get(target, files, endpoint, name)
        _declared_length_ok(ex, BY_NAME[name].size, f"HEAD {name}")


def _head_then_get(target, files, endpoint: str, name: str):
    """HEAD, then (unless the server closed) a GET on the same connection that must get exactly the file:
    body bytes sent after the HEAD's head would be read as the GET's answer. Returns the HEAD exchange."""
    conn, ex = request(target, file_path(endpoint, name), method="HEAD")
    if ex.ending == "open":
        conn.read_body(timeout=bounds.BODY_S)
    require_status(ex, 200)
    assert ex.ending == "complete" and ex.body_length == 0, f"HEAD {name}: {ex.body_length} body bytes ({ex.ending})"
    stray = conn.stray_bytes()
    assert not stray, f"HEAD {name}: {len(stray)} bytes followed the head: {stray[:60]!r}"
    if not conn.closed_by_peer:
        conn.next_cycle()
        checker = SliceChecker(_bytes(files, name))
        ex2 = conn.send_request("GET", file_path(endpoint, name), checker=checker, body_limit=checker.total + 65536)
        conn.read_response(bounds.BODY_S)
        if ex2.status is None and ex2.ending == "closed" and not ex2.received and not ex2.raw_head:
            return ex  # the server closed the idle connection after the HEAD: legal
        if ex2.status != 200:
            raise AssertionError(f"GET {name} after HEAD on the same connection: {ex2.status or ex2.ending} "
                                 f"({ex2.error[:120]}): the HEAD's body?")
        _complete_exact(ex2, checker, f"GET {name} after HEAD on the same connection")
    return ex


@case("files.head-headers", "SHOULD", "RFC 9110 §9.3.2", requires=("local-process", "files"), endpoints=("native", "streamed"))
def test_head_headers_match(target, figures, files, endpoint):
    """"The server SHOULD send the same header fields in response to a HEAD request as it would have sent
    if the request method had been GET": Content-Type, Content-Length, ETag, Last-Modified, Accept-Ranges
    and Content-Disposition of a HEAD equal those of the GET."""
    name = "k64.bin"
    get = fetch(target, file_path(endpoint, name), checker=SliceChecker(_bytes(files, name)))
    require_status(get, 200)
    head = _head_then_get(target, files, endpoint, name)
    differ = []
    for field in ("content-type", "content-length", "etag", "last-modified", "accept-ranges", "content-disposition"):
        if get.header(field) != head.header(field):
            differ.append(f"{field}: GET {get.header(field)!r}, HEAD {head.header(field)!r}")
    figures["differ"] = differ
    assert not differ, "; ".join(differ)


@case("files.disposition", "MUST", "RFC 6266 §4.1, §4.3, appendix D; RFC 8187 §3.2; RFC 9110 §5.5",
      requires=("local-process", "files"), endpoints=("native", "streamed"))
def test_content_disposition(target, figures, files, endpoint):
    """"Field values containing other characters [than ASCII] ... should be avoided" (RFC 9110 §5.5):
    the download of a file named with non-ASCII letters, and of one named with ``;``, ``"`` and spaces, is
    a 200 with the file's bytes and a ``Content-Disposition`` that a user agent reads back as exactly that
    name: pure ASCII, valid RFC 6266 syntax, the non-ASCII name in an RFC 8187 ``filename*`` (a
    ``filename`` fallback, if sent, ASCII). Never raw UTF-8, never a broken header, never a 500."""
    seen = {}
    for name in ("résumé naïve 名前.bin", 'semi; "quoted" name.bin', "k64.bin"):
        checker = SliceChecker(_bytes(files, name))
        ex = fetch(target, file_path(endpoint, name), checker=checker)
        require_status(ex, 200)
        _complete_exact(ex, checker, f"GET {name!r}")
        value = ex.header("content-disposition")
        seen[name] = value
        assert value is not None, f"GET {name!r}: no Content-Disposition (the contract serves files as attachments)"
        try:
            kind, params = disposition.parse(value)
        except disposition.Broken as exc:
            raise AssertionError(f"GET {name!r}: Content-Disposition {value!r}: {exc}") from None
        assert kind in ("attachment", "inline"), f"GET {name!r}: disposition type {kind!r}"
        if "filename*" in params:
            assert params["filename*"] == name, (
                f"GET {name!r}: filename* decodes to {params['filename*']!r}, not the file's name")
        elif not name.isascii():
            raise AssertionError(f"GET {name!r}: no filename* for a non-ASCII name (Content-Disposition {value!r})")
        else:
            assert params.get("filename") == name, (
                f"GET {name!r}: filename reads back as {params.get('filename')!r} (Content-Disposition {value!r})")
    figures["content_disposition"] = seen


# -- traversal ----------------------------------------------------------------------------------------

def _traversal_targets(prefix: str, secret_path: str) -> list[str]:
    rel = "../outside/" + SECRET
    return [
        prefix + rel,
        prefix + quote(rel, safe=""),
        prefix + "%2e%2e%2foutside%2f" + SECRET,
        prefix + "%2e%2e/outside/" + SECRET,
        prefix + ".%2e/outside/" + SECRET,
        prefix + "%252e%252e%252foutside%252f" + SECRET,
        prefix + "..%5coutside%5c" + SECRET,
        prefix + "..\\outside\\" + SECRET,
        prefix + quote(secret_path, safe=""),
        prefix + secret_path.lstrip("/"),
        prefix + "/" + secret_path.lstrip("/"),
        prefix + quote(rel, safe="") + "%00.bin",
        prefix + "..%00/outside/" + SECRET,
        prefix + ESCAPE_LINK,
    ]


@case("files.traversal", "MUST", "RFC 9110 §17.8 (path traversal); RFC 3986 §3.3",
      requires=("local-process", "files"), endpoints=("native", "streamed"))
def test_traversal(target, figures, files, endpoint):
    """A download route must never serve a byte from outside its root: ``../``, ``%2e%2e%2f``, double
    encoding, ``..%5c`` and backslashes, absolute paths, NUL bytes and a symlink that points outside are
    each answered 4xx (or a redirect), with no byte of the outside file, and the probe shows the server
    never opened it."""
    secret = bytes(file_bytes(files.tree.secret))
    before = resources(target)["opened"].get(f"outside/{SECRET}", 0)
    answers, bad = {}, []
    for path in _traversal_targets(PREFIX[endpoint], str(files.tree.secret)):
        ex = fetch(target, path, timeout=bounds.BODY_S)
        answers[path] = ex.status
        if ex.status is None and ex.ending == "timeout":  # no answer at all: judged now, not 14 times over
            raise AssertionError(f"{path}: no response within {bounds.HEAD_S:g} s")
        body = ex.body
        leaked = len(body) >= 16 and any(body[i:i + 16] in secret for i in range(0, min(len(body), 4096) - 15, 512))
        if leaked:
            bad.append(f"{path}: {ex.status} with bytes of the outside file")
        elif ex.status is None or not (300 <= ex.status < 500):
            bad.append(f"{path}: {ex.status if ex.status is not None else ex.ending} (expected 4xx)")
    opened = resources(target)["opened"].get(f"outside/{SECRET}", 0) - before
    figures.update(statuses=answers, outside_opened=opened)
    if opened:
        bad.append(f"the server opened the outside file {opened} time(s) (probe)")
    assert not bad, "; ".join(bad)


# -- ranges (native only) -----------------------------------------------------------------------------

SINGLE = [("0-0", 0, 0), ("100-199", 100, 199), ("65000-", 65000, SIZE - 1), ("-1", SIZE - 1, SIZE - 1),
          ("-100", SIZE - 100, SIZE - 1), ("-70000", 0, SIZE - 1), ("65535-65535", SIZE - 1, SIZE - 1),
          ("10-99999999999", 10, SIZE - 1)]


def _judge_partial(ex, data: memoryview, first: int, last: int, what: str) -> None:
    """A 206 for one range: exact Content-Range, length and bytes."""
    cr = ex.header("content-range")
    expected = f"bytes {first}-{last}/{len(data)}"
    assert cr is not None and cr.strip() == expected, f"{what}: Content-Range {cr!r}, expected {expected!r}"
    _declared_length_ok(ex, last - first + 1, what)
    assert ex.ending == "complete", f"{what}: the 206 body did not end properly ({ex.ending}: {ex.error})"
    assert ex.body == bytes(data[first:last + 1]), (
        f"{what}: the {ex.body_length} body bytes are not the file's bytes {first}-{last}")


def _judge_full(ex, data: memoryview, what: str) -> None:
    assert ex.ending == "complete" and ex.body == bytes(data), (
        f"{what}: a 200 must carry the whole file ({len(data)} bytes); got {ex.body_length} ({ex.ending})")


def _get_range(target, value: str, headers=()) -> object:
    return fetch(target, file_path("native", RANGED), headers=[("Range", value), *headers],
                 body_limit=4 * SIZE + 256 * 1024)


@case("files.range.single", "MUST", "RFC 9110 §14.1.2, §14.4, §15.3.7", requires=("local-process", "files"))
def test_single_ranges(target, figures, files):
    """"The 206 (Partial Content) status code indicates that the server is successfully fulfilling a range
    request ... by transferring one or more parts of the selected representation", with "a Content-Range
    header field describing what range of the selected representation is enclosed": each single range
    (``a-b``, ``a-``, ``-n``, ``-n`` longer than the file, ``N-N``, a last position past the end) is a 206
    with exactly ``bytes first-last/65536`` and exactly those bytes, or a 200 with the whole file (a
    server MAY ignore Range); never a wrong slice."""
    data = _bytes(files, RANGED)
    statuses = {}
    for value, first, last in SINGLE:
        ex = _get_range(target, f"bytes={value}")
        statuses[value] = ex.status
        what = f"Range: bytes={value}"
        require_status(ex, (200, 206))
        if ex.status == 206:
            _judge_partial(ex, data, first, last, what)
        else:
            _judge_full(ex, data, what)
    figures["statuses"] = statuses


@case("files.range.supported", "SHOULD", "RFC 9110 §14.3, §13.1.5", requires=("local-process", "files"))
def test_ranges_supported(target, figures, files):
    """A file server that can resume downloads says so and does it: the full GET carries
    ``Accept-Ranges: bytes``, each single satisfiable range is answered 206, and a Range with an
    ``If-Range`` naming the current validator (its ETag, or else its Last-Modified) is answered 206 too
    ("if the validator given in the If-Range header field matches the current validator ... the server
    SHOULD process the Range header field")."""
    full = fetch(target, file_path("native", RANGED), checker=SliceChecker(_bytes(files, RANGED)))
    require_status(full, 200)
    problems = []
    if "bytes" not in (full.header("accept-ranges") or "").lower():
        problems.append(f"Accept-Ranges {full.header('accept-ranges')!r}")
    for value, _, _ in SINGLE:
        ex = _get_range(target, f"bytes={value}")
        if ex.status != 206:
            problems.append(f"bytes={value} answered {ex.status}")
    validator = full.header("etag") or full.header("last-modified")
    if validator and not validator.startswith("W/"):
        ex = _get_range(target, "bytes=0-99", [("If-Range", validator)])
        if ex.status != 206:
            problems.append(f"If-Range {validator!r} (current) with bytes=0-99 answered {ex.status}")
    figures["problems"] = problems
    assert not problems, "; ".join(problems)


@case("files.range.unsatisfiable", "SHOULD", "RFC 9110 §15.5.17, §14.4", requires=("local-process", "files"))
def test_unsatisfiable(target, figures, files):
    """"When this status code [416] is generated in response to a byte-range request, the sender SHOULD
    generate a Content-Range header field specifying the current length of the selected representation":
    a range that starts at or past the end is a 416 with ``Content-Range: bytes */65536`` (or a 200 with
    the whole file from a server that ignores Range), never a 206 and never a 5xx."""
    data = _bytes(files, RANGED)
    for value in (f"bytes={SIZE}-", "bytes=70000-80000", f"bytes={SIZE}-{SIZE}"):
        ex = _get_range(target, value)
        require_status(ex, (200, 416))
        if ex.status == 416:
            cr = ex.header("content-range")
            assert cr is not None and cr.strip() == f"bytes */{SIZE}", (
                f"Range: {value}: 416 with Content-Range {cr!r}, expected 'bytes */{SIZE}'")
        else:
            _judge_full(ex, data, f"Range: {value}")


@case("files.range.invalid", "MUST", "RFC 9110 §14.2", requires=("local-process", "files"))
def test_invalid_ranges(target, figures, files):
    """"An origin server MUST ignore a Range header field that contains a range unit it does not
    understand", and a server "MAY ignore or reject a Range header field that contains an invalid
    ranges-specifier": another unit gets the whole file (200); an invalid ``bytes`` set (letters, an end
    before the start, nothing, three numbers, a bare dash) gets the whole file or a 416, never a 206 or a 5xx."""
    data = _bytes(files, RANGED)
    ex = _get_range(target, "chars=0-1")
    require_status(ex, 200)
    _judge_full(ex, data, "Range: chars=0-1")
    for value in ("bytes=abc", "bytes=5-3", "bytes=", "bytes=1-2-3", "bytes=-", "bytes=0x10-0x20"):
        ex = _get_range(target, value)
        require_status(ex, (200, 416))
        if ex.status == 200:
            _judge_full(ex, data, f"Range: {value}")


def _single_range(ex, what: str) -> tuple[int, int]:
    """The range of a 206 that is not multipart: its Content-Range must say it (RFC 9110 §14.4); one
    missing or malformed is the server's fault, said as a verdict, not raised as the parser's error."""
    try:
        first, last, _ = byteranges.content_range(ex.header("content-range"))
    except byteranges.Malformed as exc:
        raise AssertionError(f"{what}: a 206 with Content-Type {ex.header('content-type')!r} (not "
                             f"multipart/byteranges) needs one valid Content-Range: {exc}") from None
    return first, last


def _judge_multi(ex, data: memoryview, wanted: list[tuple[int, int]], what: str) -> None:
    """A 200 with the whole file, a single 206 covering every wanted byte, or a well-formed multipart
    whose every part is exact and whose parts cover every wanted byte."""
    if ex.status == 200:
        _judge_full(ex, data, what)
        return
    assert ex.ending == "complete", f"{what}: the 206 body did not end properly ({ex.ending}: {ex.error})"
    ctype = ex.header("content-type") or ""
    if not ctype.lower().startswith("multipart/byteranges"):
        first, last = _single_range(ex, what)
        _judge_partial(ex, data, first, last, what)
        parts = [(first, last)]
    else:
        _declared_length_ok(ex, ex.body_length, what)
        try:
            found = byteranges.parse(ex.body, ctype)
        except byteranges.Malformed as exc:
            raise AssertionError(f"{what}: malformed multipart/byteranges: {exc}") from None
        for part in found:
            assert part.complete == len(data), f"{what}: a part's Content-Range names length {part.complete}"
            assert part.data == bytes(data[part.first:part.last + 1]), (
                f"{what}: part bytes {part.first}-{part.last} differ from the file")
            assert part.content_type, f"{what}: part {part.first}-{part.last} has no Content-Type"
        parts = [(p.first, p.last) for p in found]
    uncovered = [(a, b) for a, b in wanted if not any(f <= a and b <= l for f, l in _merge(parts))]
    assert not uncovered, f"{what}: the answer leaves out the requested bytes {uncovered[:5]}"


def _merge(parts):
    out = []
    for first, last in sorted(parts):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


_ranges = st.lists(st.tuples(st.integers(0, SIZE - 1), st.integers(0, 2000)).map(lambda t: (t[0], min(SIZE - 1, t[0] + t[1]))),
                   min_size=2, max_size=6)


@case("files.range.multi", "MUST", "RFC 9110 §14.6, §15.3.7.2; RFC 2046 §5.1.1", requires=("local-process", "files"))
def test_multiple_ranges(target, figures, files):
    """"When multiple ranges are requested, a server MAY coalesce any of the ranges that overlap ... A
    server that generates a multipart response ... [sends] a multipart/byteranges" whose every part has a
    Content-Type and a Content-Range, with CRLF line ends and the declared boundary. Generated range sets
    (hypothesis, derandomized: the same sets every run) are answered with such a multipart, a single 206
    covering them, or the whole file; every byte of every part is the file's."""
    data = _bytes(files, RANGED)
    seen = []

    # No shrinking: each example is a request, and the failing range set is in the message as it is.
    @settings(max_examples=20, derandomize=True, deadline=None, database=None, report_multiple_bugs=False,
              phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))
    @given(_ranges)
    def check(wanted):
        value = "bytes=" + ",".join(f"{a}-{b}" for a, b in wanted)
        ex = _get_range(target, value)
        seen.append(ex.status)
        require_status(ex, (200, 206))
        _judge_multi(ex, data, wanted, f"Range: {value}")

    check()
    figures["statuses"] = sorted(set(seen))


@case("files.range.hostile", "MUST", "RFC 9110 §14.2 (denial of service), §14.6", requires=("local-process", "files"))
def test_hostile_ranges(target, figures, files):
    """"A server that supports range requests MAY ignore or reject a Range header field that contains ...
    a range set with many small ranges ... or more than two overlapping ranges": a thousand one-byte
    ranges, two hundred whole-file ranges, and numbers too large for any integer type get a 200, 206, 416,
    400, 413 or 431 within the body bound, no 5xx and no hang, and the answer stays within twice the file
    plus 64 KiB (no amplification); whatever bytes it carries are the file's."""
    data = _bytes(files, RANGED)
    bound = 2 * SIZE + 64 * 1024
    sets = {
        "1000 one-byte ranges": "bytes=" + ",".join(f"{i * 2}-{i * 2}" for i in range(1000)),
        "200 overlapping whole-file ranges": "bytes=" + ",".join(["0-"] * 200),
        "a huge last position": "bytes=0-" + "9" * 40,
        "a huge first position": "bytes=" + "9" * 40 + "-",
        "a huge suffix": "bytes=-" + "9" * 40,
        "a negative start": "bytes=-5-10",
    }
    sizes = {}
    for label, value in sets.items():
        ex = fetch(target, file_path("native", RANGED), headers=[("Range", value)], body_limit=bound,
                   timeout=bounds.BODY_S + 2)
        sizes[label] = (ex.status, ex.body_length)
        require_status(ex, (200, 206, 400, 413, 416, 431))
        assert ex.ending != "invalid", f"{label}: the answer exceeded {bound} bytes ({ex.error})"
        assert ex.ending == "complete", f"{label}: the answer did not end properly ({ex.ending}: {ex.error})"
        if ex.status == 200:
            _judge_full(ex, data, label)
        elif ex.status == 206:
            ctype = ex.header("content-type") or ""
            if ctype.lower().startswith("multipart/byteranges"):
                try:
                    parts = byteranges.parse(ex.body, ctype)
                except byteranges.Malformed as exc:
                    raise AssertionError(f"{label}: malformed multipart/byteranges: {exc}") from None
                assert all(p.data == bytes(data[p.first:p.last + 1]) for p in parts), f"{label}: a part differs"
            else:
                first, last = _single_range(ex, label)
                _judge_partial(ex, data, first, last, label)
    figures["answers"] = sizes


# -- conditionals (native only) -------------------------------------------------------------------

@case("files.validators", "SHOULD", "RFC 9110 §8.8.2.1, §8.8.3.1", requires=("local-process", "files"))
def test_validators(target, figures, files):
    """"An origin server SHOULD send an ETag for any selected representation for which detection of changes
    can be reasonably and consistently determined" and "SHOULD send Last-Modified for any selected
    representation for which a last modification date can be reasonably and consistently determined": a
    file has both, well formed (a quoted entity tag; an HTTP-date)."""
    ex = fetch(target, file_path("native", RANGED), checker=SliceChecker(_bytes(files, RANGED)))
    require_status(ex, 200)
    etag, lm = ex.header("etag"), ex.header("last-modified")
    figures.update(etag=etag, last_modified=lm)
    assert etag is not None and re.fullmatch(r'(W/)?"[\x21\x23-\x7e\x80-\xff]*"', etag), f"ETag {etag!r}"
    assert lm is not None and email.utils.parsedate_to_datetime(lm) is not None, f"Last-Modified {lm!r}"


def _not_modified(ex, what: str) -> None:
    if ex.status != 304:
        raise AssertionError(f"{what}: answered {ex.status}, expected 304 Not Modified")
    if ex.ending != "complete" or ex.body_length:
        raise AssertionError(f"{what}: the 304 carried {ex.body_length} bytes ({ex.ending})")


@case("files.conditional", "SHOULD", "RFC 9110 §13.1.2, §13.1.3, §15.4.5", requires=("local-process", "files"))
def test_not_modified(target, figures, files):
    """"If-None-Match ... the origin server MUST respond with ... the 304 (Not Modified) status code if the
    request method is GET or HEAD" when a listed tag matches by weak comparison, or the list is ``*``; and
    If-Modified-Since no earlier than Last-Modified gives a 304 when there is no If-None-Match. Tested
    with ``*`` (which needs no validator), then with the file's ETag as sent, as ``W/`` and in a list, and
    its Last-Modified, when the server sent them; a tag or date that does not match gets the file (200)."""
    data = _bytes(files, RANGED)
    path = file_path("native", RANGED)
    full = fetch(target, path, checker=SliceChecker(data))
    require_status(full, 200)
    etag, lm = full.header("etag"), full.header("last-modified")
    # "*" needs no validator: any current representation matches it. The others use what was sent.
    _not_modified(fetch(target, path, headers=[("If-None-Match", "*")]), "If-None-Match: *")
    if etag:
        opaque = etag[2:] if etag.startswith("W/") else etag
        for value in (etag, "W/" + opaque, f'"other", {etag}'):
            _not_modified(fetch(target, path, headers=[("If-None-Match", value)]), f"If-None-Match: {value}")
        _judge_full(fetch(target, path, headers=[("If-None-Match", '"not-this-one"')], checker=SliceChecker(data)),
                    data, "If-None-Match with another tag")
    if lm:
        _not_modified(fetch(target, path, headers=[("If-Modified-Since", lm)]), f"If-Modified-Since: {lm}")
        _judge_full(fetch(target, path, headers=[("If-Modified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")],
                          checker=SliceChecker(data)), data, "If-Modified-Since before the file's date")


@case("files.conditional.if-range", "MUST", "RFC 9110 §13.1.5", requires=("local-process", "files"))
def test_stale_if_range(target, figures, files):
    """"If the validator does not match, the server MUST ignore the Range header field": a Range with an
    If-Range naming another entity tag, a weak tag (never a match: "A server MUST NOT use a weak entity
    tag"), or an older date gets the whole file (200), never a part of a representation the client does
    not have."""
    data = _bytes(files, RANGED)
    path = file_path("native", RANGED)
    full = fetch(target, path, checker=SliceChecker(data))
    require_status(full, 200)
    etag = full.header("etag")
    stale = ['"stale-validator"', "Thu, 01 Jan 2015 00:00:00 GMT"]
    if etag:
        stale.append("W/" + (etag[2:] if etag.startswith("W/") else etag))
    for value in stale:
        ex = fetch(target, path, headers=[("Range", "bytes=0-99"), ("If-Range", value)], body_limit=2 * SIZE)
        try:
            require_status(ex, 200)
        except AssertionError as exc:  # say which of the stale validators was taken for a match
            raise AssertionError(f"Range: bytes=0-99 with If-Range: {value}: {exc}") from None
        _judge_full(ex, data, f"If-Range: {value}")


# -- aborts, memory, changing files -------------------------------------------------------------

def _read_ahead(holding: int, baseline: int, received: int) -> str:
    """The failure when a download in progress holds no file: the server read the file ahead (into
    memory) and closed it, which is itself the defect (no backpressure); the abort cannot be judged."""
    return (f"the server no longer held {BIG} open while its download was in progress ({received} bytes received; "
            f"probe: {holding} open, {baseline} before): it read the file ahead of the client, into memory, so "
            "there was no file for the abort to close (see files.stalled-memory)")


@case("files.abort", "MUST", "RFC 9112 §9.6; ASGI HTTP spec 'Disconnect'", requires=("local-process", "files"),
      endpoints=("native", "streamed"))
def test_abort_closes_file(target, figures, files, endpoint):
    """A client that leaves in the middle of a 256 MiB download: the server closes the file within 2 s
    (the probe sees the descriptor go). The download was provably in the middle: the client had received
    part of it, every byte the file's; a server that no longer holds the file at that point read it ahead
    of the client (into memory) and fails for that."""
    rel = f"root/{BIG}"
    baseline = open_count(target, rel)
    checker = SliceChecker(_bytes(files, BIG))
    conn, ex = request(target, file_path(endpoint, BIG), checker=checker, rcvbuf=SMALL_RCVBUF,
                       body_limit=checker.total + 65536)
    require_status(ex, 200)
    conn.read_body(max_bytes=64 * 1024, timeout=bounds.BODY_S)
    holding = open_count(target, rel)
    assert not checker.corrupt, checker.describe()
    precondition(ex.ending == "open" and ex.body_length < checker.total,
                 f"the download was not in progress ({ex.ending}, {ex.body_length} bytes)")
    if holding <= baseline:
        conn.abort_rst()
        raise AssertionError(_read_ahead(holding, baseline, ex.body_length))
    conn.abort_rst()
    left, took = wait_until(lambda: open_count(target, rel) <= baseline, bounds.CLEANUP_S + bounds.CLEANUP_GRACE_S)
    figures.update(received=ex.body_length, close_after_abort_ms=ms(took) if left else None)
    assert left and took <= bounds.CLEANUP_S, (
        f"{BIG} was still open {took:.1f} s after the client left mid-download (bound {bounds.CLEANUP_S} s)")


@case("files.abort-many", "MUST", "RFC 9112 §9.6; resource limits", requires=("local-process", "files"),
      endpoints=("native", "streamed"))
def test_many_aborts_leave_nothing(target, figures, files, endpoint):
    """100 clients, ten at a time, that each start a 256 MiB download, read its first bytes and leave:
    within 3 s of the last leaving, the server holds no more fixture files open than before (no descriptor leaks). The
    server must have held downloads open at once (probe; else it read the files ahead into memory and
    fails for that), every byte read was the file's, and the case stops early, failing, if the server's
    memory grows by more than 1 GiB on the way."""
    rel = f"root/{BIG}"
    baseline = open_count(target, rel)
    data = _bytes(files, BIG)
    start, peak = private_memory(target), baseline
    for batch in range(10):  # ten at a time: a server that reads files ahead holds 2.5 GiB at most, not 25
        conns = []
        for _ in range(10):
            checker = SliceChecker(data)
            conn, ex = request(target, file_path(endpoint, BIG), checker=checker, rcvbuf=SMALL_RCVBUF,
                               body_limit=checker.total + 65536)
            require_status(ex, 200)
            conn.read_body(max_bytes=1, timeout=bounds.BODY_S)
            conns.append(conn)
            assert not checker.corrupt, checker.describe()
            if not ex.body_length:
                for c in conns:
                    c.abort_rst()
                raise AssertionError(f"a download sent no body byte within {bounds.BODY_S:g} s of its head")
        held = open_count(target, rel)
        peak = max(peak, held)
        grown = private_memory(target) - start
        for conn in conns:
            conn.abort_rst()
        if held <= baseline:
            raise AssertionError(_read_ahead(held, baseline, 1))
        if grown > GUARD:
            raise AssertionError(f"the server's memory grew {grown / MIB:.0f} MiB after {(batch + 1) * 10} of the 100 "
                                 f"downloads (stopped at {GUARD // MIB} MiB): it reads the files ahead of its clients")
    left, took = wait_until(lambda: open_count(target, rel) <= baseline, 3.0 + bounds.CLEANUP_GRACE_S, poll=0.1)
    remaining = open_count(target, rel) - baseline
    figures.update(open_at_peak=peak - baseline, still_open=remaining, settled_ms=ms(took) if left else None)
    assert left and took <= 3.0, f"{remaining} of the 100 aborted downloads still hold {BIG} open after {took:.1f} s"


@case("files.stalled-memory", "MUST", "ASGI HTTP spec 'send' (flow control); resource limits",
      requires=("local-process", "files"), endpoints=("native", "streamed"), fresh_server=True)
def test_stalled_download_memory(target, figures, files, endpoint):
    """A client that stops reading a 256 MiB download (4 KiB receive buffer): the server's private memory
    grows by at most 48 MiB and then stays put (the rule of ``backpressure.stalled-reader``), instead of
    reading the file into memory. Watched until it has changed by less than 2 MiB over a second (at
    most 8 s: a server that reads ahead slowly on a busy machine is still growing then, and fails). The
    reader was provably stalled mid-download."""
    checker = SliceChecker(_bytes(files, BIG))
    watch = MemoryWatch(target)
    conn, ex = request(target, file_path(endpoint, BIG), checker=checker, rcvbuf=SMALL_RCVBUF,
                       body_limit=checker.total + 65536)
    try:
        require_status(ex, 200)
        # Watch until the server's memory has settled (a server holding back settles at once), or passed
        # the bound (one reading ahead grows until it does, however slowly it reads on a busy machine).
        settled = _settle(watch)
        conn.read_body(max_bytes=1, timeout=bounds.BODY_S)
    finally:
        growth = watch.stop()
        conn.abort_rst()
    figures.update(memory_growth_mib=round(growth / MIB, 1), received=ex.body_length, settled=settled)
    assert not checker.corrupt, checker.describe()
    assert ex.body_length, f"GET {BIG}: no body byte within {bounds.BODY_S:g} s of the head"
    precondition(ex.body_length < checker.total, "the whole file arrived: the reader was never stalled")
    assert growth <= MEMORY_BOUND, (f"the server's memory grew {growth / MIB:.0f} MiB for one stalled 256 MiB "
                                    f"download (bound {MEMORY_BOUND // MIB} MiB)")
    assert settled, (f"the server's memory was still growing {SETTLE_CAP_S:g} s into a stalled download "
                     f"(+{growth / MIB:.0f} MiB so far): it keeps reading the file for a client that reads nothing")


def _settle(watch: MemoryWatch) -> bool:
    """True once the server's memory changed by less than 2 MiB over a whole second, at least 1.5 s in;
    False when it passed the bound first, or was still growing after ``SETTLE_CAP_S``."""
    t0 = time.monotonic()
    history = []
    while time.monotonic() - t0 < SETTLE_CAP_S:
        time.sleep(0.1)
        now = time.monotonic()
        history.append((now, watch.peak))
        if watch.growth > MEMORY_BOUND:
            return False
        window = [p for t, p in history if now - t <= 1.0]
        if now - t0 >= 1.5 and len(window) >= 9 and max(window) - min(window) < 2 * MIB:
            return True
    return False


@case("files.download", "MUST", "RFC 9112 §6.3; resource limits", requires=("local-process", "files"),
      endpoints=("native", "streamed"), fresh_server=True)
def test_big_download(target, figures, files, endpoint):
    """The 256 MiB file read at full speed: every byte is the file's, the body ends properly, and the
    server's private memory grows by at most 48 MiB on the way (a server that keeps what it sent, or reads
    the file whole, needs 256 MiB). Figures: throughput and time to first byte."""
    checker = SliceChecker(_bytes(files, BIG))
    watch = MemoryWatch(target)
    t0 = time.monotonic()
    conn, ex = request(target, file_path(endpoint, BIG), checker=checker, body_limit=checker.total + 65536,
                       keep_bytes=4096)
    try:
        require_status(ex, 200)
        read_to_end(conn, ex, idle=bounds.BODY_S, cap=BIG_BODY_S)
    finally:
        growth = watch.stop()
    took = (ex.t_end or time.monotonic()) - t0
    first = ex.pieces[0].t - t0 if ex.pieces else None
    figures.update(throughput_mib_s=round(ex.body_length / MIB / took, 1) if took else None,
                   time_to_first_byte_ms=ms(first), memory_growth_mib=round(growth / MIB, 1), seconds=round(took, 2))
    _complete_exact(ex, checker, f"GET {BIG}")
    _declared_length_ok(ex, checker.total, f"GET {BIG}")
    assert growth <= MEMORY_BOUND, (f"the server's memory grew {growth / MIB:.0f} MiB while sending the 256 MiB "
                                    f"file (bound {MEMORY_BOUND // MIB} MiB)")


def _changing_file(files, size: int) -> tuple[str, bytes]:
    name = f"changing-{uuid.uuid4().hex[:10]}.bin"
    content = os.urandom(size)
    files.tree.path(name).write_bytes(content)
    return name, content


@case("files.changing", "MUST", "RFC 9112 §6.3, §8; RFC 9110 §8.6", requires=("local-process", "files"),
      endpoints=("native", "streamed"))
def test_file_changes_while_sent(target, figures, files, endpoint):
    """A file that grows (by 2 MiB), and one that shrinks (to 32 KiB, less than the client has already
    received), while it is being sent: the client can always tell. The
    response is either complete and self-consistent (exactly its declared length; the body is the file as
    it was, or as it is now) or visibly truncated (the connection closes short of the declared length, or
    without the last chunk), the bytes so far being the file's. Never a Content-Length the body silently
    breaks (bytes past it, read as the next response), and never a connection left hanging."""
    outcomes = {}
    for change in ("grow", "shrink"):
        size = 8 * MIB + 1234  # not a multiple of any chunk size: the last chunk straddles nothing neatly
        name, before = _changing_file(files, size)
        path = files.tree.path(name)
        try:
            conn, ex = request(target, file_path(endpoint, name), rcvbuf=SMALL_RCVBUF, body_limit=3 * size,
                               keep_bytes=3 * size)
            require_status(ex, 200)
            conn.read_body(max_bytes=64 * 1024, timeout=bounds.BODY_S)
            held = open_count(target, f"root/{name}")  # a server that read the file ahead holds none: legal here
            precondition(ex.ending == "open", f"the {change} download was not in progress ({ex.ending})")
            with open(path, "r+b") as fh:
                if change == "grow":
                    fh.seek(0, 2)
                    fh.write(os.urandom(2 * MIB))
                else:
                    fh.truncate(32 * 1024)  # below what the client already has: stopping at the end is a cut
            after = path.read_bytes()
            read_to_end(conn, ex, idle=bounds.BODY_S, cap=30.0)
            body, cl = ex.body, ex.header("content-length")
            outcomes[change] = {"ending": ex.ending, "received": len(body), "content_length": cl, "file_held": held}
            what = f"{change}: GET of a file that {'grew' if change == 'grow' else 'shrank'} while sent"
            assert ex.ending != "timeout", f"{what}: the connection was left open after {len(body)} bytes"
            assert ex.ending != "invalid", f"{what}: {ex.error}"
            if ex.ending == "complete":
                if cl is not None:
                    assert len(body) == int(cl), f"{what}: {len(body)} bytes against Content-Length {cl}"
                assert body == before or body == after, (
                    f"{what}: a complete body of {len(body)} bytes that is neither the file as it was nor as it is")
                time.sleep(0.3)
                extra = conn.stray_bytes()
                assert not extra, (f"{what}: {len(extra)} bytes arrived after the declared {cl} bytes (they would "
                                   f"be read as the next response): {extra[:60]!r}")
            else:
                assert body == before[:len(body)] or body == after[:len(body)], (
                    f"{what}: the {len(body)} bytes before the close are not the file's")
                if cl is not None:
                    assert len(body) < int(cl), f"{what}: closed after all {cl} declared bytes"
        finally:
            path.unlink(missing_ok=True)
    figures["outcomes"] = outcomes
