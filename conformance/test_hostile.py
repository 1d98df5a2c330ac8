"""Hostile framing: malformed requests get a 4xx or a closed connection, never a 2xx, unless the RFC allows
the repair the server made; the server goes on serving (RFC 9112 §2.2, §3, §5, §6, §7.1; RFC 9110 §5, §8.6).

Each case sends one message of the catalogue (``conformance/hostile.py``) as raw bytes on a new
connection, followed by a pipelined ``GET /health``, reads every byte that comes back (parsed by h11) and
judges them against the message's legal outcomes; a smuggled request is looked for in the probe as well.
Then a new connection's ``GET /health`` must answer ``200 ok`` (at one of three tries). Every wait is
bounded: a server that neither answers nor closes fails the case within ``bounds.HEAD_S`` of its last byte.
"""

from __future__ import annotations

import select
import socket
import time

from . import bounds
from .cases import case, precondition
from .helpers import new_id
from .hostile import (
    HOST,
    Hostile,
    ResponseReader,
    Verdict,
    answer_of,
    catalogue,
    expects_more,
    hopeless,
    is_health,
    judge,
    request,
    upload_answer,
)

#: Messages are sent in pieces this size. An oversized message sent at once makes a server that answers
#: 4xx and closes with our bytes unread reset the connection, and the reset can erase its answer before
#: we read it; in pieces, the client stops sending as soon as an answer arrives.
PIECE = 16 * 1024
#: How long after each piece (but the last) the client looks for an answer before sending the next. A
#: server answers a line over its limit within a millisecond on loopback; 50 ms is slack for a loaded
#: machine, and 32 pieces of the largest message cost at most 1.6 s (only on a server that reads it all).
PIECE_WAIT_S = 0.05
#: With a huge declared body (``may_wait``) a legal server waits for the bytes. A server that wrapped the
#: size to a small number answers within milliseconds; after this much silence the client half-closes.
SETTLE_S = 0.5
#: The slowloris case: how long the head is trickled, and the gap between its bytes. Bounded so the family
#: stays fast; a server that never gives up is reported as still open after this long.
SLOWLORIS_S = 6.0
SLOWLORIS_GAP_S = 0.25
#: Moments into the trickle at which another client must be served.
SLOWLORIS_CHECKS_S = (1.0, SLOWLORIS_S - 0.5)
#: Tries of the ``GET /health`` that shows the server still serves (see ``require_serving``).
SERVING_ATTEMPTS = 3


# -- the socket side --------------------------------------------------------------------------------------

def _connect(target) -> socket.socket:
    sock = socket.create_connection((target.host, target.port), timeout=bounds.HEAD_S)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _send(sock: socket.socket, data: bytes) -> tuple[int, str]:
    """Send ``data`` in pieces; stop early when the server answered or closed. Returns (bytes sent, note)."""
    sent = 0
    while sent < len(data):
        piece = data[sent:sent + PIECE]
        try:
            sock.settimeout(bounds.HEAD_S)
            sock.sendall(piece)
        except TimeoutError:
            return sent, f"the server stopped reading after {sent} bytes"
        except OSError as exc:
            return sent, f"sending stopped after {sent} bytes: {exc}"
        sent += len(piece)
        if sent < len(data) and select.select([sock], [], [], PIECE_WAIT_S)[0]:
            return sent, f"the server answered or closed after {sent} of {len(data)} bytes"
    return sent, ""


def _read(sock: socket.socket, reader: ResponseReader, timeout: float) -> str:
    """One recv into the reader: 'data', 'eof' (or reset), or 'timeout'."""
    sock.settimeout(max(0.001, timeout))
    try:
        data = sock.recv(65536)
    except TimeoutError:
        return "timeout"
    except OSError:
        data = b""  # reset: closed
    reader.feed(data)
    return "data" if data else "eof"


def _last_request(upload_id: str) -> bytes:
    return (b"GET /probe?id=" + upload_id.encode() + b" HTTP/1.1\r\nHost: " + HOST
            + b"\r\nConnection: close\r\n\r\n")


def exchange(target, entry: Hostile, figures: dict) -> tuple[Verdict, ResponseReader, str]:
    """Send the message and the follow-up, read every answer, judge. Returns (verdict, reader, notes)."""
    sock = _connect(target)
    notes = []
    reader = ResponseReader()
    try:
        sent, note = _send(sock, entry.data)
        if note:
            notes.append(note)
        figures["sent_bytes"] = sent
        deadline = time.monotonic() + (SETTLE_S if entry.may_wait else bounds.HEAD_S)
        half_closed, last_sent, last = False, False, None
        while not reader.eof and not reader.invalid:
            got = _read(sock, reader, deadline - time.monotonic())
            if got == "timeout":
                if entry.may_wait and not half_closed and not reader.responses:
                    sock.shutdown(socket.SHUT_WR)
                    half_closed = True
                    notes.append(f"no answer within {SETTLE_S:g} s: the client half-closed")
                    deadline = time.monotonic() + bounds.HEAD_S
                    continue
                notes.append(f"neither more bytes nor a close within {bounds.HEAD_S:g} s")
                break
            deadline = time.monotonic() + bounds.HEAD_S
            responses = reader.responses
            if last_sent and len(responses) == last_sent:
                last = responses[-1]
                break
            if hopeless(entry, responses):
                break
            if not last_sent and not half_closed and expects_more(entry, responses):
                try:  # everything the repair leaves has been answered: one last request must get its own
                    sock.sendall(_last_request(entry.upload_id))
                    last_sent = len(responses) + 1
                except OSError:
                    pass  # the server closed: legal after a complete response
        responses = list(reader.responses)
        if last is not None:
            responses = responses[:-1]
        if reader.invalid:
            return Verdict(False, "", f"bytes that are no HTTP response: {reader.invalid}"), reader, "; ".join(notes)
        verdict = judge(entry, responses, closed=reader.eof, last=last, last_expected=entry.upload_id)
        return verdict, reader, "; ".join(notes)
    finally:
        sock.close()


def get(target, path: str, data: bytes | None = None) -> tuple[ResponseReader, str]:
    """A one-request GET on a new connection (``Connection: close``), read to the end within the bound
    (``data``: another well-formed request to send instead)."""
    reader = ResponseReader()
    try:
        sock = _connect(target)
    except OSError as exc:
        return reader, f"connect failed: {exc}"
    try:
        sock.sendall(data or b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + HOST
                     + b"\r\nConnection: close\r\n\r\n")
        deadline = time.monotonic() + bounds.HEAD_S
        while not reader.eof and not reader.invalid and not reader.responses:
            if _read(sock, reader, deadline - time.monotonic()) == "timeout":
                return reader, f"no answer within {bounds.HEAD_S:g} s"
        return reader, reader.invalid
    except OSError as exc:
        return reader, f"{exc}"
    finally:
        sock.close()


def require_serving(target, when: str) -> None:
    """A new connection's ``GET /health`` answers ``200 ok``. Up to ``SERVING_ATTEMPTS`` tries, one after
    another, each bounded by ``bounds.HEAD_S``: the claim is that the server still serves, not how fast,
    and a machine running many servers at once was once slower than one bound (nexios/hypercorn in CI);
    a server that stopped serving fails every try."""
    tries = []
    for _ in range(SERVING_ATTEMPTS):
        reader, problem = get(target, "/health")
        if reader.responses and is_health(reader.responses[0]):
            return
        tries.append(reader.responses[0].describe() if reader.responses else (problem or "the connection closed"))
        if reader.responses:  # an answer, but the wrong one: trying again changes nothing
            break
    raise AssertionError(f"{when}, a new connection's GET /health got {'; then '.join(tries)}, "
                         "expected 200 'ok\\n' (the server must go on serving)")


def probe_record(target, request_id: str) -> dict | None:
    reader, problem = get(target, f"/probe?id={request_id}")
    if not reader.responses or reader.responses[0].status != 200:
        raise AssertionError(f"GET /probe?id={request_id} failed: "
                             f"{reader.responses[0].describe() if reader.responses else problem}")
    return (upload_answer(reader.responses[0]) or {}).get("record")


def require_uploads(target, upload_id: str) -> None:
    """The precondition of a case that sends ``/upload``: a well-formed upload is answered as the contract
    says, so a 4xx to the hostile one is the server refusing it, not a missing route (404, 405)."""
    control = request([b"Content-Length: 5", b"Connection: close"], b"hello", f"/upload?id={upload_id}".encode())
    reader, problem = get(target, "", control)
    got = reader.responses[0] if reader.responses else None
    precondition(got is not None and got.status == 200 and upload_answer(got) == answer_of(b"hello"),
                 f"a well-formed POST /upload of 5 bytes was answered {got.describe() if got else problem or 'nothing'}, "
                 f"not 200 {answer_of(b'hello')}")


def run(target, figures: dict, name: str) -> None:
    """One hostile message: send, judge, check the probe, then a new client must be served."""
    entry = catalogue(new_id("hostile"), new_id("smuggled"))[name]
    if entry.message.startswith(b"POST /upload"):
        require_uploads(target, entry.upload_id + "-control")
    verdict, reader, notes = exchange(target, entry, figures)
    figures["outcome"] = verdict.reading or "fail"
    figures["statuses"] = [r.status for r in reader.responses]
    figures["closed"] = reader.eof
    if not verdict.ok:
        raise AssertionError(
            f"sent {entry.shown()} then a pipelined GET /health: {verdict.reason}{'; ' + notes if notes else ''}. "
            f"Legal: {entry.legal()}. Raw answer: {bytes(reader.raw[:300])!r}")
    if entry.smuggled_id:
        record = probe_record(target, entry.smuggled_id)
        if record is not None:
            raise AssertionError(f"sent {entry.shown()}: the request hidden in its body reached the application "
                                 f"(the probe shows upload {entry.smuggled_id}: {[e['kind'] for e in record['events']]})")
    if verdict.reading.startswith(("rejected", "closed")):
        record = probe_record(target, entry.upload_id)
        ends = [e for e in (record or {}).get("events", []) if e["kind"] == "end"]
        if ends:
            raise AssertionError(f"sent {entry.shown()}: the connection got {verdict.reading}, but the application "
                                 f"was handed the malformed body as complete ({ends[0]})")
    require_serving(target, f"after {name}")


# -- chunk-size lines ---------------------------------------------------------------------------------------

@case("hostile.chunk-size-invalid-hex", "SHOULD", "RFC 9112 §7.1 (chunk-size = 1*HEXDIG); §2.2",
      requires=("uploads",))
def test_chunk_size_invalid_hex(target, figures):
    """"chunk-size = 1*HEXDIG" (RFC 9112 §7.1), and a server receiving octets that do not match the grammar
    "SHOULD respond with a 400 (Bad Request) response and close the connection" (§2.2): the chunk-size
    ``5g`` is rejected (4xx or a close), never read as 5 by a parser that stops at the first non-hex digit.
    Legal: a rejection, then nothing more on the connection."""
    run(target, figures, "chunk-size-invalid-hex")


@case("hostile.chunk-size-plus", "SHOULD", "RFC 9112 §7.1 (chunk-size = 1*HEXDIG); §2.2", requires=("uploads",))
def test_chunk_size_plus(target, figures):
    """"chunk-size = 1*HEXDIG" (RFC 9112 §7.1): a sign is no hex digit, so ``+5`` is rejected (§2.2: 400 and
    close), never taken as 5 the way a general integer parser (Python ``int(x, 16)``) does. Legal: a
    rejection, then nothing more."""
    run(target, figures, "chunk-size-plus")


@case("hostile.chunk-size-minus", "SHOULD", "RFC 9112 §7.1 (chunk-size = 1*HEXDIG); §2.2", requires=("uploads",))
def test_chunk_size_minus(target, figures):
    """"chunk-size = 1*HEXDIG" (RFC 9112 §7.1): ``-0`` after a valid first chunk is no last-chunk, so the
    message is rejected (§2.2), never ended there by a parser that accepts a sign. Legal: a rejection
    (the application may have seen the first chunk, never the end of the body), then nothing more."""
    run(target, figures, "chunk-size-minus")


@case("hostile.chunk-size-0x", "SHOULD", "RFC 9112 §7.1 (chunk-size = 1*HEXDIG); §2.2", requires=("uploads",))
def test_chunk_size_0x(target, figures):
    """"chunk-size = 1*HEXDIG" (RFC 9112 §7.1): a ``0x`` prefix is not part of the grammar, so ``0x5`` is
    rejected (§2.2), never read as 5 (a prefix-tolerant parser) nor as a last chunk ``0``. Legal: a
    rejection, then nothing more."""
    run(target, figures, "chunk-size-0x")


@case("hostile.chunk-size-whitespace", "SHOULD", "RFC 9112 §7.1 (chunk-size = 1*HEXDIG); §2.2",
      requires=("uploads",))
def test_chunk_size_whitespace(target, figures):
    """"chunk-size = 1*HEXDIG" (RFC 9112 §7.1): whitespace before the size is not allowed anywhere in the
    chunk-size line's grammar, so `` 5`` is rejected (§2.2), never stripped and read as 5. Legal: a
    rejection, then nothing more."""
    run(target, figures, "chunk-size-whitespace")


@case("hostile.chunk-size-underscore", "SHOULD", "RFC 9112 §7.1 (chunk-size = 1*HEXDIG); §2.2",
      requires=("uploads",))
def test_chunk_size_underscore(target, figures):
    """"chunk-size = 1*HEXDIG" (RFC 9112 §7.1): an underscore is no hex digit, so ``1_0`` is rejected (§2.2),
    never read as 16 (Python's ``int("1_0", 16)``) nor as 1. Legal: a rejection, then nothing more."""
    run(target, figures, "chunk-size-underscore")


@case("hostile.chunk-size-overflow", "MUST", "RFC 9112 §7.1 (integer conversion overflows)", requires=("uploads",))
def test_chunk_size_overflow(target, figures):
    """"Recipients MUST anticipate potentially large hexadecimal numerals and prevent parsing errors due to
    integer conversion overflows or precision loss due to integer representation" (RFC 9112 §7.1): the
    chunk-size 2**64 + 5 is never read as 5 (a 64-bit parser that wraps). Legal: a rejection; or waiting
    for the huge chunk, and then, when the client half-closes after 0.5 s of silence, a rejection or a
    close; never a 2xx."""
    run(target, figures, "chunk-size-overflow")


@case("hostile.chunk-data-no-crlf", "SHOULD", "RFC 9112 §7.1 (chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF); §2.2",
      requires=("uploads",))
def test_chunk_data_no_crlf(target, figures):
    """"chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF" (RFC 9112 §7.1): two bytes other than CRLF after
    a chunk's data are rejected (§2.2), never skipped unchecked (h11 before 0.16 did: CVE-2025-43859).
    Legal: a rejection, then nothing more."""
    run(target, figures, "chunk-data-no-crlf")


@case("hostile.chunk-ext-oversized", "SHOULD", "RFC 9112 §7.1.1 (limit chunk extensions, 4xx)", requires=("uploads",))
def test_chunk_ext_oversized(target, figures):
    """"A server ought to limit the total length of chunk extensions received in a request to an amount
    reasonable for the services provided ... and generate an appropriate 4xx (Client Error) response if
    that amount is exceeded" (RFC 9112 §7.1.1): one 512 KiB chunk extension is refused, not buffered.
    Legal: a rejection, then nothing more."""
    run(target, figures, "chunk-ext-oversized")


@case("hostile.chunk-line-oversized", "SHOULD", "RFC 9112 §7.1.1 (limit chunk extensions, 4xx)",
      requires=("uploads",))
def test_chunk_line_oversized(target, figures):
    """"A server ought to limit the total length of chunk extensions received in a request ... and generate
    an appropriate 4xx (Client Error) response if that amount is exceeded" (RFC 9112 §7.1.1): a chunk-size
    line padded to 512 KiB with whitespace before its extension (``chunk-ext = *( BWS ";" ...)``) is
    refused, not buffered. Legal: a rejection, then nothing more."""
    run(target, figures, "chunk-line-oversized")


# -- Content-Length with Transfer-Encoding, and smuggling ----------------------------------------------------

@case("hostile.cl-te-both", "MUST", "RFC 9112 §6.1 (CL and TE: MUST close after responding); §6.3",
      requires=("uploads",))
def test_cl_te_both(target, figures):
    """"A server MAY reject a request that contains both Content-Length and Transfer-Encoding or process such
    a request in accordance with the Transfer-Encoding alone. Regardless, the server MUST close the
    connection after responding to such a request" (RFC 9112 §6.1). Legal: a rejection, then nothing more;
    or 200 for the 5 bytes the chunked body decodes to, then the connection closed without answering the
    pipelined follow-up."""
    run(target, figures, "cl-te-both")


@case("hostile.cl-te-smuggle", "MUST", "RFC 9112 §6.1 (CL and TE: MUST close after responding); §6.3",
      requires=("uploads",))
def test_cl_te_smuggle(target, figures):
    """"Regardless, the server MUST close the connection after responding to such a request to avoid the
    potential attacks" (RFC 9112 §6.1), CL.TE: the Content-Length covers a terminating chunk and, behind
    it, a whole second request (``POST /upload`` under another id) that an intermediary framing by length
    would never forward as one. Legal: a rejection, then nothing more; or 200 for an empty body (framed by
    TE), then the connection closed. The hidden request is never answered, and the probe shows no upload
    under its id."""
    run(target, figures, "cl-te-smuggle")


@case("hostile.te-cl-smuggle", "MUST", "RFC 9112 §6.1 (CL and TE: MUST close after responding); §6.3",
      requires=("uploads",))
def test_te_cl_smuggle(target, figures):
    """"Regardless, the server MUST close the connection after responding to such a request to avoid the
    potential attacks" (RFC 9112 §6.1), TE.CL: the Content-Length ends inside the first chunk-size line,
    and the chunk's data is a whole request (``POST /upload`` under another id). Legal: a rejection, then
    nothing more; or 200 for the chunk's bytes (framed by TE), then the connection closed. The hidden
    request is never answered, and the probe shows no upload under its id."""
    run(target, figures, "te-cl-smuggle")


# -- obfuscated Transfer-Encoding -------------------------------------------------------------------------------

@case("hostile.te-chunked-twice", "SHOULD", "RFC 9112 §6.1 (chunked at most once; 501 for codings not understood); §6.3",
      requires=("uploads",))
def test_te_chunked_twice(target, figures):
    """"A sender MUST NOT apply the chunked transfer coding more than once to a message body" and "A server
    that receives a request message with a transfer coding it does not understand SHOULD respond with 501"
    (RFC 9112 §6.1): ``Transfer-Encoding: chunked, chunked`` over a body chunked once is refused, never
    decoded once and accepted. Legal: a 4xx or 501, or a close, then nothing more."""
    run(target, figures, "te-chunked-twice")


@case("hostile.te-duplicate-header", "SHOULD", "RFC 9110 §5.3 (field lines combine); RFC 9112 §6.1",
      requires=("uploads",))
def test_te_duplicate_header(target, figures):
    """"A recipient MAY combine multiple field lines within a field section that have the same field name
    into one field line ... in order, separated by commas" (RFC 9110 §5.3): two ``Transfer-Encoding:
    chunked`` lines mean ``chunked, chunked`` (RFC 9112 §6.1: applied at most once), so the message is
    refused, never framed by the first line alone. Legal: a 4xx or 501, or a close, then nothing more."""
    run(target, figures, "te-duplicate-header")


@case("hostile.te-empty-element", "MUST", "RFC 9110 §5.6.1 (empty list elements); RFC 9112 §6.1, §6.3",
      requires=("uploads",))
def test_te_empty_element(target, figures):
    """"A recipient MUST parse and ignore a reasonable number of empty list elements" (RFC 9110 §5.6.1):
    ``Transfer-Encoding: ,chunked`` is chunked, never "no transfer coding" (which frames the body as empty
    and reads the chunks as a next request). Legal: the repair, 200 for the 5 decoded bytes then the
    follow-up answered; or a 4xx or 501 (§6.1, a sender MUST NOT generate empty elements) or a close,
    then nothing more."""
    run(target, figures, "te-empty-element")


@case("hostile.te-vertical-tab", "MUST", "RFC 9112 §6.3 (chunked not final: 400, close); RFC 9110 §5.5",
      requires=("uploads",))
def test_te_vertical_tab(target, figures):
    """"If a Transfer-Encoding header field is present in a request and the chunked transfer coding is not
    the final encoding, the message body length cannot be determined reliably; the server MUST respond with
    the 400 (Bad Request) status code and then close the connection" (RFC 9112 §6.3): ``chunked\\x0b`` is
    not ``chunked`` (a vertical tab is no whitespace in HTTP, RFC 9110 §5.5), never stripped into it.
    Legal: a 4xx or a close, then nothing more."""
    run(target, figures, "te-vertical-tab")


@case("hostile.te-identity-chunked", "SHOULD", "RFC 9112 §6.1 (501 for codings not understood), §7",
      requires=("uploads",))
def test_te_identity_chunked(target, figures):
    """"A server that receives a request message with a transfer coding it does not understand SHOULD
    respond with 501 (Not Implemented)" (RFC 9112 §6.1): ``identity, chunked`` (``identity`` is no
    registered transfer coding) is refused, or decoded as chunked by a server that takes ``identity`` as
    no coding; never framed as "no transfer coding" by a server that looks at the first token only.
    Legal: a 4xx or 501, or a close, then nothing more; or 200 for the 5 decoded bytes, then the
    follow-up answered."""
    run(target, figures, "te-identity-chunked")


@case("hostile.te-chunked-not-final", "MUST", "RFC 9112 §6.3 (chunked not final: 400, close)",
      requires=("uploads",))
def test_te_chunked_not_final(target, figures):
    """"If a Transfer-Encoding header field is present in a request and the chunked transfer coding is not
    the final encoding, the message body length cannot be determined reliably; the server MUST respond with
    the 400 (Bad Request) status code and then close the connection" (RFC 9112 §6.3):
    ``chunked, identity`` is refused with a 4xx (this MUST is more specific than §6.1's 501 for codings not
    understood), never framed by its first token. Legal: a 4xx or a close, then nothing more."""
    run(target, figures, "te-chunked-not-final")


@case("hostile.te-space-before-colon", "MUST", "RFC 9112 §5.1 (whitespace before colon: 400)",
      requires=("uploads",))
def test_te_space_before_colon(target, figures):
    """"A server MUST reject, with a response status code of 400 (Bad Request), any received request message
    that contains whitespace between a header field name and colon" (RFC 9112 §5.1):
    ``Transfer-Encoding : chunked`` next to a Content-Length is rejected, neither honoured as TE nor
    dropped in favour of the length. Legal: a 4xx or a close, then nothing more."""
    run(target, figures, "te-space-before-colon")


@case("hostile.te-obs-fold-value", "MUST", "RFC 9112 §5.2 (obs-fold: reject or replace with SP)",
      requires=("uploads",))
def test_te_obs_fold_value(target, figures):
    """"A server that receives an obs-fold in a request message ... MUST either reject the message by
    sending a 400 (Bad Request) ... or replace each received obs-fold with one or more SP octets prior to
    interpreting the field value" (RFC 9112 §5.2): ``Transfer-Encoding:`` with `` chunked`` on a
    continuation line is chunked once repaired, never "no transfer coding". Legal: a rejection, then
    nothing more; or 200 for the 5 decoded bytes, then the follow-up answered."""
    run(target, figures, "te-obs-fold-value")


@case("hostile.obs-fold-hides-te", "MUST", "RFC 9112 §5.2 (obs-fold: reject or replace with SP)",
      requires=("uploads",))
def test_obs_fold_hides_te(target, figures):
    """"A server that receives an obs-fold in a request message ... MUST either reject the message by
    sending a 400 (Bad Request) ... or replace each received obs-fold with one or more SP octets prior to
    interpreting the field value" (RFC 9112 §5.2): `` Transfer-Encoding: chunked`` folded into the previous
    field's value is part of that value, never a field of its own. Legal: a rejection, then nothing more;
    or 200 for the 15 bytes the Content-Length frames (the chunked text itself), then the follow-up answered."""
    run(target, figures, "obs-fold-hides-te")


@case("hostile.first-header-whitespace", "MUST", "RFC 9112 §2.2 (whitespace before the first field line)",
      requires=("uploads",))
def test_first_header_whitespace(target, figures):
    """"A recipient that receives whitespace between the start-line and the first header field MUST either
    reject the message as invalid or consume each whitespace-preceded line without further processing of
    it" (RFC 9112 §2.2): `` Transfer-Encoding: chunked`` right after the request line never frames the body.
    Legal: a rejection, then nothing more; or 200 for the 15 bytes the Content-Length frames, then the
    follow-up answered."""
    run(target, figures, "first-header-whitespace")


# -- Content-Length values --------------------------------------------------------------------------------------

@case("hostile.cl-conflicting-headers", "MUST", "RFC 9112 §6.3 (invalid Content-Length: 400, close)",
      requires=("uploads",))
def test_cl_conflicting_headers(target, figures):
    """"If a message is received without Transfer-Encoding and with an invalid Content-Length header field,
    then the message framing is invalid and the recipient MUST treat it as an unrecoverable error ... the
    server MUST respond with a 400 (Bad Request) status code and then close the connection" (RFC 9112
    §6.3): two Content-Length lines, 5 and 6, are rejected, never framed by either. Legal: a 4xx or a
    close, then nothing more."""
    run(target, figures, "cl-conflicting-headers")


@case("hostile.cl-conflicting-list", "MUST", "RFC 9112 §6.3 (invalid Content-Length: 400, close)",
      requires=("uploads",))
def test_cl_conflicting_list(target, figures):
    """"... unless the field value can be successfully parsed as a comma-separated list ..., all values in
    the list are valid, and all values in the list are the same" (RFC 9112 §6.3): ``Content-Length: 5, 6``
    is an unrecoverable error, answered with 400 and a close, never framed by its first value. Legal: a
    4xx or a close, then nothing more."""
    run(target, figures, "cl-conflicting-list")


@case("hostile.cl-negative", "MUST", "RFC 9112 §6.3 (invalid Content-Length: 400, close); RFC 9110 §8.6",
      requires=("uploads",))
def test_cl_negative(target, figures):
    """"Content-Length = 1*DIGIT" (RFC 9110 §8.6), and an invalid Content-Length is "an unrecoverable error
    ... the server MUST respond with a 400 (Bad Request) status code and then close the connection" (RFC
    9112 §6.3): ``Content-Length: -5`` is rejected, never taken as an empty body (the 5 bytes then read as
    a next request). Legal: a 4xx or a close, then nothing more."""
    run(target, figures, "cl-negative")


@case("hostile.cl-non-numeric", "MUST", "RFC 9112 §6.3 (invalid Content-Length: 400, close); RFC 9110 §8.6",
      requires=("uploads",))
def test_cl_non_numeric(target, figures):
    """"Content-Length = 1*DIGIT" (RFC 9110 §8.6), and an invalid Content-Length is "an unrecoverable error
    ... the server MUST respond with a 400 (Bad Request) status code and then close the connection" (RFC
    9112 §6.3): ``Content-Length: five`` is rejected, never taken as 0 (``atoi``). Legal: a 4xx or a close,
    then nothing more."""
    run(target, figures, "cl-non-numeric")


@case("hostile.cl-plus", "MUST", "RFC 9112 §6.3 (invalid Content-Length: 400, close); RFC 9110 §8.6",
      requires=("uploads",))
def test_cl_plus(target, figures):
    """"Content-Length = 1*DIGIT" (RFC 9110 §8.6), and an invalid Content-Length is "an unrecoverable error
    ... the server MUST respond with a 400 (Bad Request) status code and then close the connection" (RFC
    9112 §6.3): ``Content-Length: +5`` is rejected, never read as 5 (Python's ``int("+5")``). Legal: a 4xx
    or a close, then nothing more."""
    run(target, figures, "cl-plus")


@case("hostile.cl-overflow", "MUST", "RFC 9110 §8.6 (integer conversion overflows)", requires=("uploads",))
def test_cl_overflow(target, figures):
    """"A recipient MUST anticipate potentially large decimal numerals and prevent parsing errors due to
    integer conversion overflows or precision loss due to integer representation" (RFC 9110 §8.6):
    ``Content-Length: 18446744073709551621`` (2**64 + 5) is never read as 5. Legal: a rejection; or waiting
    for the huge body, and then, when the client half-closes after 0.5 s of silence, a rejection or a
    close; never a 2xx."""
    run(target, figures, "cl-overflow")


# -- line ends, control characters, field syntax, sizes -----------------------------------------------------

@case("hostile.request-line-bare-lf", "SHOULD", "RFC 9112 §3 (invalid request-line: 400 or 301); §2.2",
      requires=("uploads",))
def test_request_line_bare_lf(target, figures):
    """"Recipients of an invalid request-line SHOULD respond with either a 400 (Bad Request) error or a 301
    (Moved Permanently) redirect with the request-target properly encoded" (RFC 9112 §3): a bare LF inside
    the request-target (``/upload?id=X\\nx``) is rejected, never kept in the target. Taking the LF as a line
    end (§2.2 allows it) leaves a request line without version and a line without colon: also invalid.
    Legal: a 4xx or 301, or a close, then nothing more."""
    run(target, figures, "request-line-bare-lf")


@case("hostile.request-line-bare-cr", "MUST", "RFC 9112 §2.2 (bare CR: invalid or SP); §3",
      requires=("uploads",))
def test_request_line_bare_cr(target, figures):
    """"A recipient of such a bare CR MUST consider that element to be invalid or replace each bare CR with
    SP before processing the element or forwarding the message" (RFC 9112 §2.2): a bare CR inside the
    request-target (``/upload?id=X\\rx``) is rejected, never kept in the target; replaced by SP, the
    request line has four words and is invalid too (§3). Legal: a 4xx or 301, or a close, then nothing more."""
    run(target, figures, "request-line-bare-cr")


@case("hostile.header-bare-lf", "MUST", "RFC 9110 §5.5 (CR, LF, NUL in field values); RFC 9112 §2.2",
      requires=("uploads",))
def test_header_bare_lf(target, figures):
    """"A recipient of CR, LF, or NUL within a field value MUST either reject the message or replace each of
    those characters with SP" (RFC 9110 §5.5): ``Content-Length: 5\\n0`` is rejected, never read as 5 with
    the rest ignored. Replaced by SP the value ``5 0`` is invalid; taken as a line end (RFC 9112 §2.2) it
    leaves a line without colon. Legal: a 4xx or a close, then nothing more."""
    run(target, figures, "header-bare-lf")


@case("hostile.header-bare-cr", "MUST", "RFC 9112 §2.2 (bare CR: invalid or SP); RFC 9110 §5.5",
      requires=("uploads",))
def test_header_bare_cr(target, figures):
    """"A recipient of such a bare CR MUST consider that element to be invalid or replace each bare CR with
    SP before processing the element" (RFC 9112 §2.2): ``Content-Length: 5\\r0`` is rejected, never read as
    5 with the rest ignored; replaced by SP, ``5 0`` is an invalid length (§6.3). Legal: a 4xx or a close,
    then nothing more."""
    run(target, figures, "header-bare-cr")


@case("hostile.header-nul", "MUST", "RFC 9110 §5.5 (CR, LF, NUL in field values)", requires=("uploads",))
def test_header_nul(target, figures):
    """"Field values containing CR, LF, or NUL characters are invalid and dangerous ... a recipient of CR,
    LF, or NUL within a field value MUST either reject the message or replace each of those characters
    with SP" (RFC 9110 §5.5): ``Content-Length: 5\\x000`` is rejected, never read as 5 by a parser that
    stops at the NUL; replaced by SP, ``5 0`` is an invalid length. Legal: a 4xx or a close, then nothing
    more."""
    run(target, figures, "header-nul")


@case("hostile.header-no-colon", "SHOULD", "RFC 9112 §5 (field-line = field-name \":\" OWS field-value OWS); §2.2",
      requires=("uploads",))
def test_header_no_colon(target, figures):
    """"field-line = field-name ":" OWS field-value OWS" (RFC 9112 §5), and a server receiving octets that do
    not match the grammar "SHOULD respond with a 400 (Bad Request) response and close the connection"
    (§2.2): a line ``Transfer-Encoding chunked`` is rejected, neither skipped nor honoured. Legal: a 4xx
    or a close, then nothing more."""
    run(target, figures, "header-no-colon")


@case("hostile.header-oversized", "MUST", "RFC 9110 §5.4 (fields larger than it wishes to process: 4xx); RFC 6585 §5 (431)")
def test_header_oversized(target, figures):
    """"A server that receives a request header field line, field value, or set of fields larger than it
    wishes to process MUST respond with an appropriate 4xx (Client Error) status code" (RFC 9110 §5.4):
    512 KiB of header fields on ``GET /health`` get a 4xx (431 Request Header Fields Too Large, RFC 6585
    §5, is the fitting one; the status is the figure), never a 200. Legal: a 4xx or a close, then nothing
    more, or only the follow-up's 200."""
    run(target, figures, "header-oversized")


@case("hostile.request-line-oversized", "MUST", "RFC 9112 §3 (request-target too long: 414)")
def test_request_line_oversized(target, figures):
    """"A server that receives a request-target longer than any URI it wishes to parse MUST respond with a
    414 (URI Too Long) status code" (RFC 9112 §3): ``GET /health?pad=`` with a 512 KiB target gets 414,
    never a 200 and never another status. Legal: 414, or a close with no response (which cannot be
    judged), then nothing more, or only the follow-up's 200."""
    run(target, figures, "request-line-oversized")


# -- slowloris ----------------------------------------------------------------------------------------------------

@case("hostile.slowloris", "INFO", "RFC 9112 §9.5 (timeouts); RFC 9110 §15.5.9 (408)")
def test_slowloris(target, figures):
    """"Servers will usually have some timeout value beyond which they will no longer maintain an inactive
    connection" (RFC 9112 §9.5): a request head trickled one byte every 0.25 s for 6 s. The figure is how
    long the server waited before it gave up (closed, or answered 408 / another 4xx), or "still open after
    6 s". While the trickle goes on, another client's ``GET /health`` is answered (at one of three tries,
    each bounded by 2 s: a server that one slow head blocks fails), and the trickled head never gets a 2xx."""
    head = b"GET /health HTTP/1.1\r\nHost: " + HOST + b"\r\n"
    trickle = b"".join(b"X-Slow-%d: %d\r\n" % (i, i) for i in range(40))
    sock = _connect(target)
    reader = ResponseReader()
    t0 = time.monotonic()
    gave_up = None
    checks = list(SLOWLORIS_CHECKS_S)
    i = 0
    try:
        sock.sendall(head)
        while time.monotonic() - t0 < SLOWLORIS_S and i < len(trickle):
            try:
                sock.sendall(trickle[i:i + 1])
            except OSError:
                gave_up = time.monotonic() - t0
                break
            i += 1
            if select.select([sock], [], [], SLOWLORIS_GAP_S)[0]:
                _read(sock, reader, 0.1)
                if reader.eof or reader.responses:
                    gave_up = time.monotonic() - t0
                    break
            if checks and time.monotonic() - t0 >= checks[0]:
                checks.pop(0)
                require_serving(target, f"{time.monotonic() - t0:.1f} s into the trickle of a request head")
        if gave_up is None and not reader.eof:
            sock.setblocking(False)
            try:
                reader.feed(sock.recv(65536))
            except (BlockingIOError, OSError):
                pass
            if reader.eof or reader.responses:
                gave_up = time.monotonic() - t0
    finally:
        sock.close()
        statuses = [r.status for r in reader.responses]
        figures["sent_bytes"] = len(head) + i
        figures["statuses"] = statuses
        if gave_up is not None:
            figures["gave_up_after_s"] = round(gave_up, 2)
            figures["outcome"] = f"gave up after {gave_up:.1f} s" + (f" with {statuses[0]}" if statuses else " (closed)")
        else:
            figures["outcome"] = f"still open after {time.monotonic() - t0:.1f} s"
    if statuses and 200 <= statuses[0] < 300:
        raise AssertionError(f"a request head trickled byte by byte ({figures['sent_bytes']} bytes, never finished) "
                             f"was answered {reader.responses[0].describe()}")
    require_serving(target, "after the trickle")
