"""The suite against the raw-socket test server (tests/rawserver.py): no false alarms, and teeth where
ASGI cannot reach.

Each legal-but-unusual server (chunk extensions, upper-case hex sizes, trailers, 103 Early Hints, an SSE
BOM, CR-only SSE lines, SSE items split into tiny writes) must pass every case it can affect: a failure
there is the suite raising a false alarm, or the raw server being wrong. The broken server (a second
status line written after a mid-stream error) must be caught by exactly the truncation cases.
"""

from __future__ import annotations

import pytest

from tests import rawserver
from tests.suite_runner import STREAM_FAMILIES, run_suite

ADAPTER = "--adapter=tests.rawserver:ADAPTER"

#: legal server -> case glob (None: the whole suite). The SSE quirks only change /sse bytes.
LEGAL = {  # the raw servers serve the streaming families only (they lack files and objects)
    "plain": STREAM_FAMILIES,
    "chunk-extensions": STREAM_FAMILIES,
    "upper-hex": STREAM_FAMILIES,
    "trailers": STREAM_FAMILIES,
    "interim-103": STREAM_FAMILIES,
    "sse-bom": "sse.*",
    "sse-cr-only": "sse.*",
    "sse-split-writes": "sse.*",
}

#: broken server -> (case glob, the exact cases that must fail). The quirk only acts when the producer
#: raises after the head, which only the errors family asks for; the before-start cases must pass.
BROKEN = {
    "second-status-after-error": ("errors.*", {
        "errors.truncated.chunked", "errors.truncated.length",
        "errors.http-error-truncated.chunked", "errors.http-error-truncated.length",
    }),
    # A HEAD or 204 that carries a body: the case that sent the request fails (its follow-up request
    # on the same connection gets the stray bytes), not only chunking.keep-alive.
    "head-with-body": ("chunking.*", {"chunking.head"}),
    "204-with-body": ("sse.*", {"sse.exhausted-204"}),
}


def test_every_server_is_covered():
    assert set(LEGAL) == set(rawserver.LEGAL) and set(BROKEN) == set(rawserver.BROKEN)
    assert set(rawserver.ADAPTER.servers) == set(LEGAL) | set(BROKEN)


def _listing(run) -> str:
    lines = [f"  {c['id']}: {c['outcome']}: {c['reason'][:300]}" for c in (run.results or {}).get("cases", [])
             if c["outcome"] != "pass"]
    return "\n".join(lines) + "\n" + run.output


@pytest.mark.parametrize("name", list(LEGAL))
def test_legal_server_passes(name, tmp_path):
    run = run_suite(tmp_path / "r.json", ADAPTER, f"--server={name}", select=LEGAL[name])
    assert run.results is not None, f"no results file; output:\n{run.output}"
    assert run.results["cases"], f"no case ran for {name}"
    # Only "pass" will do: fail, error, unexpected-pass, unsupported (or any outcome added later) is not.
    bad = {c["id"] for c in run.results["cases"] if c["outcome"] != "pass"}
    assert run.returncode == 0 and not bad, (
        f"rawsocket/{name} (legal) did not pass: {sorted(bad)} (exit {run.returncode})\n{_listing(run)}")


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_server_is_caught_by_exactly_its_cases(name, tmp_path):
    select, caught = BROKEN[name]
    run = run_suite(tmp_path / "r.json", ADAPTER, f"--server={name}", select=select)
    assert run.results is not None, f"no results file; output:\n{run.output}"
    assert run.returncode != 0, "the suite passed a broken server"
    assert run.failed == caught, (
        f"rawsocket/{name}: failing cases differ from the declared set\n  unexpected: "
        f"{sorted(run.failed - caught)}\n  not caught: {sorted(caught - run.failed)}\n{_listing(run)}")
