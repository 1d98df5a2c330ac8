"""The hostile-framing family has teeth and raises no false alarm.

``tests/lenient_server.py`` accepts every malformed message the way a careless parser would (first token
of Transfer-Encoding, ``strtoull`` sizes, bare LF/CR kept in values, no obs-fold, no limits, CL+TE kept
alive, one head parsed at a time): every ``hostile.*`` case must fail against it. The reference must fail
exactly its server's known findings (raw-socket evidence in the lead's reports/FINDINGS.md); the cases
pass on it otherwise, under every server, including the legal repairs the RFC allows (obs-fold replaced
by SP under uvicorn and hypercorn; CL+TE processed by TE and then closed, ``,chunked`` and
``identity, chunked`` decoded as chunked under granian).
"""

from __future__ import annotations

import pytest

from conformance import catalogue, hostile
from tests.suite_runner import ROOT, run_suite

LENIENT = "--adapter=tests.lenient_server:ADAPTER"
HOSTILE_IDS = {c["id"] for c in catalogue.cases(ROOT / "conformance") if c["id"].startswith("hostile.")}

#: server -> the hostile cases the reference fails under it: genuine findings of that server.
FINDINGS = {
    # h11 (uvicorn, hypercorn) frames a CL+TE request by TE but keeps the connection open: it answers
    # the pipelined follow-up, and a request smuggled behind the body (RFC 9112 §6.1: MUST close).
    # uvicorn answers every parse error 400, also a 512 KiB request-target (RFC 9112 §3: MUST 414).
    "uvicorn": {"hostile.cl-te-both", "hostile.cl-te-smuggle", "hostile.te-cl-smuggle",
                "hostile.request-line-oversized"},
    # hypercorn: the same h11 CL+TE findings; 431 for a 512 KiB request-target (MUST 414); 501, not 400,
    # for "Transfer-Encoding: chunked, identity" (RFC 9112 §6.3: chunked not final, MUST 400).
    "hypercorn": {"hostile.cl-te-both", "hostile.cl-te-smuggle", "hostile.te-cl-smuggle",
                  "hostile.request-line-oversized", "hostile.te-chunked-not-final"},
    # granian: a malformed chunked body reaches the app as a disconnect and is answered 500, not 4xx;
    # a chunk-size line padded with 512 KiB of whitespace is accepted; "chunked, chunked" (one line or
    # two) is decoded once and accepted; 431 for a 512 KiB request-target (MUST 414).
    "granian": {"hostile.chunk-size-invalid-hex", "hostile.chunk-size-plus", "hostile.chunk-size-minus",
                "hostile.chunk-size-0x", "hostile.chunk-size-whitespace", "hostile.chunk-size-underscore",
                "hostile.chunk-size-overflow", "hostile.chunk-data-no-crlf", "hostile.chunk-ext-oversized",
                "hostile.chunk-line-oversized", "hostile.te-chunked-twice", "hostile.te-duplicate-header",
                "hostile.request-line-oversized"},
}


def _listing(run) -> str:
    lines = [f"  {c['id']}: {c['outcome']}: {c['reason'][:300]}" for c in (run.results or {}).get("cases", [])
             if c["outcome"] != "pass"]
    return "\n".join(lines) + "\n" + run.output


def test_family_is_catalogued():
    """Every catalogue message has its case, and there are at least 30."""
    assert {f"hostile.{n}" for n in hostile.NAMES} | {"hostile.slowloris"} == HOSTILE_IDS
    assert len(HOSTILE_IDS) >= 30


def test_lenient_server_fails_every_hostile_case(tmp_path):
    run = run_suite(tmp_path / "r.json", LENIENT, "--server=lenient", select="hostile.*")
    assert run.results is not None, f"no results file; output:\n{run.output}"
    assert run.returncode != 0, "the suite passed the lenient server"
    failed = run.ids_with("fail")  # fail, not error: each case judged the server and found it lenient
    assert failed == HOSTILE_IDS, (
        f"cases that did not fail the lenient server: {sorted(HOSTILE_IDS - failed)}\n{_listing(run)}")


@pytest.mark.parametrize("server", sorted(FINDINGS))
def test_reference_fails_only_its_findings(server, tmp_path):
    run = run_suite(tmp_path / "r.json", "--adapter=reference", f"--server={server}", "--ignore-expectations",
                    select="hostile.*")
    assert run.results is not None, f"no results file; output:\n{run.output}"
    ran = {c["id"] for c in run.results["cases"]}
    assert ran == HOSTILE_IDS, f"cases missing: {sorted(HOSTILE_IDS - ran)}"
    assert run.failed == FINDINGS[server], (
        f"reference/{server}: failing hostile cases differ from its findings\n  unexpected: "
        f"{sorted(run.failed - FINDINGS[server])}\n  no longer failing: {sorted(FINDINGS[server] - run.failed)}\n"
        f"{_listing(run)}")
