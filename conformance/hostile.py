"""The hostile-framing catalogue, sans-IO: each malformed request as bytes, with its legal outcomes.

A hostile message is a request whose framing or syntax is malformed (RFC 9112 / RFC 9110), sent raw on
one connection and followed on the same connection by a pipelined ``GET /health`` (the *follow-up*).
What the server made of the bytes is read from the answers: ``POST /upload?id=`` answers how many body
bytes the application received and their SHA-256, so a server that framed the body differently from
the RFC is caught by the count; a request hidden in a body (smuggled) is caught by an extra response and
by the probe (``GET /probe?id=<smuggled id>`` must show no record).

Legal outcomes of a message (``Hostile``):

* **rejection**: the first response has one of the entry's rejection statuses (a 4xx; some entries
  also allow 501 or 301, each for the reason its docstring gives), or the connection closes with no
  response at all. Nothing may follow a rejection on that connection (the framing is lost: any later
  response answers bytes the server should not have parsed), except, where the message's end is
  unambiguous despite the error (``resync``), the follow-up's own ``200 ok``;
* **a repair** (``Repair``), only where the RFC lets a recipient repair rather than reject (a bare LF as
  line end, obs-fold replaced by SP, empty list elements ignored, CL+TE processed by TE alone...): the
  upload's answer is exactly the one the repaired message gives, then exactly the follow-ups the
  repaired message leaves on the connection, then either the connection closes (``close=True``: the
  RFC says it MUST) or it still answers a last request (``GET /probe?id=<upload id>``) with its own
  answer, which proves nothing else was queued behind the expected responses.

Anything else fails: a 2xx that is not a legal repair, a response to a smuggled request, a second
response after a rejection, no answer and no close within the bound. ``judge`` decides from the parsed
responses; ``ResponseReader`` parses them with h11. The socket work is in ``conformance/test_hostile.py``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import h11

HOST = b"streamspec.test"
#: The follow-up pipelined behind every hostile message, and its answer (``GET /health``).
FOLLOW_UP = b"GET /health HTTP/1.1\r\nHost: " + HOST + b"\r\n\r\n"
HEALTH_BODY = b"ok\n"
#: Bytes for the "oversized" messages: far over every server's limit (h11 16 KiB, hyper about 400 KiB),
#: small enough to send in a moment.
OVERSIZED = 512 * 1024
#: Most bytes a hostile exchange keeps from the server: responses here are a few hundred bytes each.
READ_LIMIT = 256 * 1024
#: Most responses parsed on one connection (a server splitting a message into many requests shows
#: itself long before this).
MAX_RESPONSES = 8

CHUNKED_HELLO = b"5\r\nhello\r\n0\r\n\r\n"
REJECT_4XX = tuple(range(400, 500))
#: RFC 9110 §15.6.2 / RFC 9112 §6.1: "A server that receives a request message with a transfer coding
#: it does not understand SHOULD respond with 501 (Not Implemented)."
REJECT_TE = REJECT_4XX + (501,)
#: RFC 9112 §3: "Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request)
#: error or a 301 (Moved Permanently) redirect with the request-target properly encoded."
REJECT_REQUEST_LINE = REJECT_4XX + (301,)


def answer_of(body: bytes) -> dict:
    """The ``/upload`` JSON answer for a complete body (as ``streamspec.uploads.expected_answer``)."""
    return {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}


@dataclass(frozen=True)
class Repair:
    """A legal acceptance: the body the application must have received, then what must follow."""

    name: str
    body: bytes
    #: how many follow-ups (``GET /health``) the repaired message leaves to answer on the connection
    follow_ups: int = 1
    #: the server MUST close the connection after answering (RFC 9112 §6.1, CL and TE together)
    close: bool = False


@dataclass(frozen=True)
class Hostile:
    name: str
    #: the hostile message (the follow-up is appended when sent)
    message: bytes
    reject: tuple[int, ...] = REJECT_4XX
    repairs: tuple[Repair, ...] = ()
    #: the message's end is unambiguous despite the error: after a rejection the follow-up may be answered
    resync: bool = False
    #: a legal server may wait for the rest of a huge declared body: after a short silence the client
    #: half-closes, and the server must then reject or close (the body is incomplete), never answer 2xx
    may_wait: bool = False
    upload_id: str = ""
    smuggled_id: str = ""

    @property
    def data(self) -> bytes:
        return self.message + FOLLOW_UP

    def shown(self, limit: int = 160) -> str:
        """A short repr of the hostile bytes for a failure message (long runs elided)."""
        text = repr(self.message)
        return text if len(text) <= limit else f"{text[:limit - 40]}...{text[-30:]} ({len(self.message)} bytes)"

    def legal(self) -> str:
        """The legal outcomes, one line."""
        statuses = _statuses(self.reject)
        parts = [f"a rejection ({statuses}, or closed with no response), then nothing"
                 + (" but the follow-up's 200" if self.resync else "")]
        for r in self.repairs:
            after = "then the connection closed" if r.close else "then the connection still serving"
            parts.append(f"the repair '{r.name}': 200 {short_answer(r.body)}"
                         + (f" and {r.follow_ups} follow-up 200 ok" if r.follow_ups else "") + f", {after}")
        if self.may_wait:
            parts.append("waiting for the declared body, then a rejection or a close at the client's half-close")
        return "; or ".join(parts)


def _statuses(codes: tuple[int, ...]) -> str:
    if not set(REJECT_4XX) <= set(codes):
        return "/".join(str(c) for c in sorted(codes))
    return "4xx" + "".join(f"/{c}" for c in sorted(set(codes) - set(REJECT_4XX)))


def short_answer(body: bytes) -> str:
    doc = answer_of(body)
    return f"{{bytes: {doc['bytes']}, sha256: {doc['sha256'][:12]}...}}"


# -- building the messages ----------------------------------------------------------------------------

def request(lines: list[bytes], body: bytes = b"", target: bytes = b"/upload", method: bytes = b"POST",
            request_line: bytes | None = None, host: bool = True) -> bytes:
    """A request head from its header lines (CRLF-joined; ``Host`` first unless ``host=False``: the
    caller placed it), then the body bytes as given."""
    line = request_line if request_line is not None else method + b" " + target + b" HTTP/1.1"
    lines = ([b"Host: " + HOST] if host else []) + lines
    return line + b"\r\n" + b"".join(h + b"\r\n" for h in lines) + b"\r\n" + body


def smuggled(smuggled_id: str) -> bytes:
    """The request a smuggling message hides in its body: an upload of nothing under its own id."""
    return (b"POST /upload?id=" + smuggled_id.encode() + b" HTTP/1.1\r\nHost: " + HOST
            + b"\r\nContent-Length: 0\r\n\r\n")


def catalogue(upload_id: str, smuggled_id: str) -> dict[str, Hostile]:
    """Every hostile message, by case name (``hostile.<name>``), for these request ids."""
    up = b"/upload?id=" + upload_id.encode()
    te = b"Transfer-Encoding: chunked"
    entries: list[Hostile] = []

    def add(name: str, message: bytes, **kw) -> None:
        entries.append(Hostile(name, message, upload_id=upload_id, **kw))

    # -- chunk-size lines (RFC 9112 §7.1: chunk-size = 1*HEXDIG) --
    def chunk(name: str, body: bytes, **kw) -> None:
        add(name, request([te], body, up), **kw)

    chunk("chunk-size-invalid-hex", b"5g\r\nhello\r\n0\r\n\r\n")
    chunk("chunk-size-plus", b"+5\r\nhello\r\n0\r\n\r\n")
    chunk("chunk-size-minus", b"5\r\nhello\r\n-0\r\n\r\n")
    chunk("chunk-size-0x", b"0x5\r\nhello\r\n0\r\n\r\n")
    chunk("chunk-size-whitespace", b" 5\r\nhello\r\n0\r\n\r\n")
    chunk("chunk-size-underscore", b"1_0\r\n" + b"0123456789abcdef" + b"\r\n0\r\n\r\n")
    # 2**64 + 5: a 64-bit parser that wraps reads 5
    chunk("chunk-size-overflow", b"%x\r\nhello\r\n0\r\n\r\n" % (2**64 + 5), may_wait=True)
    chunk("chunk-data-no-crlf", b"5\r\nhelloXX0\r\n\r\n")
    chunk("chunk-ext-oversized", b"5;name=" + b"v" * OVERSIZED + b"\r\nhello\r\n0\r\n\r\n")
    chunk("chunk-line-oversized", b"5" + b" " * OVERSIZED + b";name\r\nhello\r\n0\r\n\r\n")

    # -- Content-Length and Transfer-Encoding together (RFC 9112 §6.1, §6.3) --
    add("cl-te-both", request([b"Content-Length: 5", te], CHUNKED_HELLO, up),
        repairs=(Repair("processed by Transfer-Encoding alone, then closed", b"hello", 0, close=True),))
    # CL.TE: the declared length covers a request hidden behind the terminating chunk
    hidden = smuggled(smuggled_id)
    body = b"0\r\n\r\n" + hidden
    add("cl-te-smuggle", request([b"Content-Length: %d" % len(body), te], body, up), smuggled_id=smuggled_id,
        repairs=(Repair("processed by Transfer-Encoding alone, then closed", b"", 0, close=True),))
    # TE.CL: the declared length ends inside the first chunk-size line; the hidden request is chunk data
    size_line = b"%x\r\n" % len(hidden)
    body = size_line + hidden + b"\r\n0\r\n\r\n"
    add("te-cl-smuggle", request([b"Content-Length: %d" % len(size_line), te], body, up), smuggled_id=smuggled_id,
        repairs=(Repair("processed by Transfer-Encoding alone, then closed", hidden, 0, close=True),))

    # -- obfuscated Transfer-Encoding (RFC 9112 §6.1, §6.3, §7.1; RFC 9110 §5.5, §5.6.1) --
    add("te-chunked-twice", request([b"Transfer-Encoding: chunked, chunked"], CHUNKED_HELLO, up), reject=REJECT_TE)
    add("te-duplicate-header", request([te, te], CHUNKED_HELLO, up), reject=REJECT_TE)
    add("te-empty-element", request([b"Transfer-Encoding: ,chunked"], CHUNKED_HELLO, up), reject=REJECT_TE,
        repairs=(Repair("empty list element ignored: chunked", b"hello"),))
    # chunked not the final coding (RFC 9112 §6.3: 400, not 501)
    add("te-vertical-tab", request([b"Transfer-Encoding: chunked\x0b"], CHUNKED_HELLO, up))
    add("te-identity-chunked", request([b"Transfer-Encoding: identity, chunked"], CHUNKED_HELLO, up),
        reject=REJECT_TE, repairs=(Repair("identity taken as no coding: chunked", b"hello"),))
    add("te-chunked-not-final", request([b"Transfer-Encoding: chunked, identity"], CHUNKED_HELLO, up))
    raw = CHUNKED_HELLO  # the body of the "hidden TE" messages, declared by its length as well
    cl_raw = b"Content-Length: %d" % len(raw)
    add("te-space-before-colon", request([cl_raw, b"Transfer-Encoding : chunked"], raw, up))
    add("te-obs-fold-value", request([b"Transfer-Encoding:", b" chunked"], raw, up),
        repairs=(Repair("obs-fold replaced by SP: chunked", b"hello"),))
    add("obs-fold-hides-te", request([cl_raw, b"X-Pad: a", b" Transfer-Encoding: chunked"], raw, up),
        repairs=(Repair("obs-fold replaced by SP: X-Pad, framed by Content-Length", raw),))
    add("first-header-whitespace", request([b" Transfer-Encoding: chunked", b"Host: " + HOST, cl_raw], raw, up,
                                           host=False),
        repairs=(Repair("whitespace-preceded line ignored: framed by Content-Length", raw),))

    # -- Content-Length values (RFC 9112 §6.3; RFC 9110 §8.6) --
    def cl(name: str, values: list[bytes], body: bytes = b"hello", **kw) -> None:
        add(name, request([b"Content-Length: " + v for v in values], body, up), **kw)

    cl("cl-conflicting-headers", [b"5", b"6"], b"hello!")
    cl("cl-conflicting-list", [b"5, 6"], b"hello!")
    cl("cl-negative", [b"-5"])
    cl("cl-non-numeric", [b"five"])
    cl("cl-plus", [b"+5"])
    cl("cl-overflow", [b"%d" % (2**64 + 5)], may_wait=True)

    # -- line ends, CTLs and field syntax (RFC 9112 §2.2, §3, §5; RFC 9110 §5.5) --
    add("request-line-bare-lf", request([b"Content-Length: 5"], b"hello",
                                        request_line=b"POST " + up + b"\nx HTTP/1.1"), reject=REJECT_REQUEST_LINE)
    add("request-line-bare-cr", request([b"Content-Length: 5"], b"hello",
                                        request_line=b"POST " + up + b"\rx HTTP/1.1"), reject=REJECT_REQUEST_LINE)
    cl("header-bare-lf", [b"5\n0"])
    cl("header-bare-cr", [b"5\r0"])
    cl("header-nul", [b"5\x000"])
    add("header-no-colon", request([cl_raw, b"Transfer-Encoding chunked"], raw, up))
    pad = b"X-Pad-%04d: " + b"p" * 1000
    lines = [pad % i for i in range(OVERSIZED // 1016)]
    add("header-oversized", request(lines, method=b"GET", target=b"/health"), resync=True)
    add("request-line-oversized", request([], method=b"GET", target=b"/health?pad=" + b"p" * OVERSIZED),
        reject=(414,), resync=True)
    return {e.name: e for e in entries}


NAMES = tuple(catalogue("x", "y"))


# -- reading the answers ------------------------------------------------------------------------------

@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def describe(self) -> str:
        doc = upload_answer(self) if self.body.startswith(b'{"bytes"') else None
        if doc and "sha256" in doc:  # an upload's answer: the hash shortened
            return f"{self.status} {{bytes: {doc.get('bytes')}, sha256: {str(doc['sha256'])[:12]}...}}"
        return f"{self.status} {self.body[:120]!r}"


@dataclass
class ResponseReader:
    """Parses the bytes a server sends back into responses, one h11 client connection per response
    (the requests were raw bytes, so each parser is told a plain GET was sent). Keeps at most
    ``READ_LIMIT`` bytes; past it, or on bytes that are no HTTP response, ``invalid`` says why."""

    raw: bytearray = field(default_factory=bytearray)
    responses: list[Response] = field(default_factory=list)
    eof: bool = False
    invalid: str = ""
    _pending: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> None:
        if self.invalid:
            return
        if not data:
            self.eof = True
        elif len(self.raw) + len(data) > READ_LIMIT:
            self.invalid = f"more than {READ_LIMIT} bytes of responses"
            return
        self.raw += data
        self._pending += data
        self._parse()

    def _parse(self) -> None:
        while (self._pending or self.eof) and not self.invalid and len(self.responses) < MAX_RESPONSES:
            parser = h11.Connection(h11.CLIENT)
            parser.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
            parser.send(h11.EndOfMessage())
            parser.receive_data(bytes(self._pending))
            if self.eof:
                parser.receive_data(b"")
            head, body = None, bytearray()
            try:
                while True:
                    event = parser.next_event()
                    if event is h11.NEED_DATA or event is h11.PAUSED:
                        return  # wait for more bytes (nothing consumed yet)
                    if isinstance(event, h11.InformationalResponse):
                        continue
                    if isinstance(event, h11.Response):
                        head = event
                    elif isinstance(event, h11.Data):
                        body += event.data
                    elif isinstance(event, h11.EndOfMessage):
                        break
                    elif isinstance(event, h11.ConnectionClosed):
                        return  # EOF between responses
            except h11.RemoteProtocolError as exc:
                if head is None and not self._pending.strip():
                    return
                self.invalid = f"not a valid HTTP/1.1 response: {exc}"
                return
            self.responses.append(Response(head.status_code, [(k.decode(), v.decode("latin-1"))
                                                              for k, v in head.headers], bytes(body)))
            self._pending = bytearray(parser.trailing_data[0])
            if not self._pending:
                return


# -- the verdict ----------------------------------------------------------------------------------------

@dataclass
class Verdict:
    ok: bool
    #: "rejected", "closed", a repair's name, or "" for a failure
    reading: str
    reason: str = ""


def upload_answer(resp: Response) -> dict | None:
    try:
        doc = json.loads(resp.body)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def is_health(resp: Response) -> bool:
    return resp.status == 200 and resp.body == HEALTH_BODY


def repair_prefix(entry: Hostile, repair: Repair, responses: list[Response]) -> str:
    """'' when ``responses`` is a prefix of what the repair leaves, else why not."""
    if not responses:
        return ""
    first = responses[0]
    if first.status != 200 or upload_answer(first) != answer_of(repair.body):
        return f"the upload answered {first.describe()}, not 200 {short_answer(repair.body)}"
    for i, resp in enumerate(responses[1:], 1):
        if i > repair.follow_ups:
            return f"response {i + 1} ({resp.describe()}) answers a request the repaired message does not contain"
        if not is_health(resp):
            return f"response {i + 1} was {resp.describe()}, expected the follow-up's 200 ok"
    return ""


def hopeless(entry: Hostile, responses: list[Response]) -> bool:
    """No later byte or close can make these responses a legal outcome (the reader stops waiting)."""
    if not responses:
        return False
    if responses[0].status in entry.reject:
        rest = responses[1:]
        return len(rest) > 1 or (len(rest) == 1 and not (entry.resync and is_health(rest[0])))
    return all(repair_prefix(entry, r, responses) for r in entry.repairs)


def expects_more(entry: Hostile, responses: list[Response]) -> Repair | None:
    """The keep-alive repair whose responses have all arrived (the reader then sends its last request)."""
    for repair in entry.repairs:
        if not repair.close and len(responses) == 1 + repair.follow_ups and not repair_prefix(entry, repair, responses):
            return repair
    return None


def judge(entry: Hostile, responses: list[Response], closed: bool, last: Response | None = None,
          last_expected: str = "") -> Verdict:
    """Decide from every response that arrived. ``closed``: the connection ended (EOF or reset);
    ``last``: the answer to the final request sent after a complete keep-alive repair (None if the
    server closed first), whose id must be ``last_expected``."""
    if not responses:
        if closed:
            return Verdict(True, "closed")
        return Verdict(False, "", "no response and no close within the bound")
    first = responses[0]
    if first.status in entry.reject:
        rest = responses[1:]
        if entry.resync and len(rest) == 1 and is_health(rest[0]):
            rest = []
        if rest:
            return Verdict(False, "", f"after rejecting it with {first.status}, the server answered "
                                      f"{len(rest)} more response(s): {', '.join(r.describe() for r in rest)} "
                                      "(it parsed bytes after a malformed message)")
        return Verdict(True, f"rejected {first.status}")
    reasons = []
    for repair in entry.repairs:
        why = repair_prefix(entry, repair, responses)
        if why:
            reasons.append(f"not the repair '{repair.name}': {why}")
            continue
        if repair.close:
            if len(responses) < 1 + repair.follow_ups or not closed:
                reasons.append(f"the repair '{repair.name}' but the connection was not closed after it "
                               "(RFC 9112 §6.1: the server MUST close the connection after responding)")
                continue
            return Verdict(True, repair.name)
        if len(responses) < 1 + repair.follow_ups:
            if closed:  # a server may close after any complete response; the rest is the client's to retry
                return Verdict(True, repair.name)
            reasons.append(f"the repair '{repair.name}' but only {len(responses)} responses before the bound")
            continue
        if last is None:
            if closed:
                return Verdict(True, repair.name)
            reasons.append(f"the repair '{repair.name}', but the request sent after it got no answer")
            continue
        doc = upload_answer(last) or {}
        record = doc.get("record") or {}
        if last.status != 200 or record.get("id") != last_expected:
            reasons.append(f"the repair '{repair.name}', but the request sent after it was answered "
                           f"{last.describe()} (a response queued for bytes the repair does not leave)")
            continue
        return Verdict(True, repair.name)
    answered = ", ".join(r.describe() for r in responses)
    if reasons:
        why = "; ".join(reasons)
    elif 400 <= first.status < 500:
        why = f"{first.status} is not the rejection this message calls for"
    else:
        why = f"{first.status} is not a rejection"
    return Verdict(False, "", f"answered {answered} ({why})")
