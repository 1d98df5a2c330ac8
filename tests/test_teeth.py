"""Proof that the conformance suite has teeth: each broken variant fails exactly the cases listed for
it, every case is failed by at least one variant, and the correct reference passes."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

import tests.variants as variants
from tests.suite_runner import ROOT, run_suite, variant_args, variant_meta


def all_case_ids() -> set[str]:
    """Case ids declared in conformance/test_*.py (framed cases once per framing), as SPEC.md lists them."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import spec_catalogue

    return {c["id"] for c in spec_catalogue.cases()}


#: A server that never answers is judged, every case, within this: 1.1 s of wall per case (90 s was the
#: bound for 83 cases; with the upload, echo and hostile families, 136 cases, CI measured 99.6 s). A case
#: that waits out pytest's 120 s timeout instead of its own bound still breaks it.
SILENT_S_PER_CASE = 90.0 / 83


@pytest.mark.timeout(300)  # a variant's run, on a CI machine running three of them at once
@pytest.mark.parametrize("name", variants.names())
def test_variant_is_caught_by_exactly_its_cases(name, tmp_path):
    args, select, caught = variant_args(name)
    assert caught, f"variant {name} declares no CAUGHT_BY"
    if caught == "*":
        return check_silent_server(name, args, tmp_path)
    t0 = time.monotonic()
    run = run_suite(tmp_path / "results.json", *args, select=select, timeout=280)
    print(f"variant {name}: suite run {time.monotonic() - t0:.1f} s")  # shown if the test fails
    assert run.results is not None, f"no results file; output:\n{run.output}"
    assert run.returncode != 0, "the suite passed a broken server"
    assert run.failed == caught, (
        f"variant {name}: failing cases differ from CAUGHT_BY\n  unexpected: {sorted(run.failed - caught)}\n"
        f"  not caught: {sorted(caught - run.failed)}\n{run.accounts(run.failed - caught)}\n{run.output}")


def check_silent_server(name: str, args: list[str], tmp_path) -> None:
    """A server that never answers (or sends a head and then nothing): the run ends within about 1.1 s per
    case, every
    case is failed (or errors), none passes, and none is skipped as unsupported."""
    t0 = time.monotonic()
    # Every case of a silent server only waits out its bound: 12 parts (nearly no CPU each) share the waits.
    run = run_suite(tmp_path / "results.json", *args, "--require-browser", "--workers=12")
    wall = time.monotonic() - t0
    assert run.results is not None, f"no results file; output:\n{run.output}"
    outcomes = {c["id"]: c["outcome"] for c in run.results["cases"]}
    not_failed = {i: o for i, o in outcomes.items() if o not in ("fail", "error")}
    assert set(outcomes) == all_case_ids(), f"cases missing from the run: {sorted(all_case_ids() - set(outcomes))}"
    assert not not_failed, f"variant {name}: cases that did not fail against a silent server: {not_failed}"
    bound = SILENT_S_PER_CASE * len(outcomes)
    assert wall < bound, f"variant {name}: the run took {wall:.1f} s (bound {bound:.0f} s for {len(outcomes)} cases)"


def test_every_case_is_caught_by_some_variant():
    caught = set().union(*(set(variant_meta(n)["CAUGHT_BY"] or ()) for n in variants.names()
                           if variant_meta(n)["CAUGHT_BY"] != "*"))
    # The hostile-framing cases need a server whose *parser* is wrong, which no ASGI variant can be: each is
    # failed by the lenient raw-socket server (tests/test_hostile_lenient.py asserts exactly that).
    uncaught = {i for i in all_case_ids() - caught if not i.startswith("hostile.")}
    assert not uncaught, f"cases no broken variant fails (they cannot be shown to fail): {sorted(uncaught)}"


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn", "granian"])
def test_reference_passes(server, tmp_path):
    """Every MUST and SHOULD case passes on the reference, except the documented expectations
    (reference/expectations.toml): granian's, and each server's own parser's answers to hostile framing
    (the reference app cannot change how uvicorn, hypercorn or granian parse a request)."""
    run = run_suite(tmp_path / "results.json", "--adapter=reference", f"--server={server}")
    assert run.returncode == 0, (f"reference under {server}: {sorted(run.failed)}\n{run.accounts(run.failed)}\n"
                                 f"{run.output}")
    bad = run.ids_with("fail", "error", "unexpected-pass", "unsupported")
    assert not bad, f"reference under {server} did not pass: {sorted(bad)}\n{run.accounts(bad)}\n{run.output}"
    left = {c["id"]: c["figures"]["leftover"] for c in run.results["cases"] if "leftover" in c["figures"]}
    assert not left, f"the reference left producers running after cases (the server was restarted): {left}"
    # Every case says what it cost on both sides (conformance/cpu_use.py), and the costs are real readings:
    # a 256 MiB download cannot be free on either side.
    cpu = {c["id"]: c.get("cpu_s") for c in run.results["cases"] if c["outcome"] != "unsupported"}
    assert all(v and v["suite"] >= 0 and v["server"] >= 0 for v in cpu.values()), cpu
    assert cpu["files.download.native"]["suite"] > 0 and cpu["files.download.native"]["server"] > 0, cpu
    if server != "granian":
        beyond_parser = {i for i in run.ids_with("expected-fail") if not i.startswith("hostile.")}
        assert not beyond_parser, f"the reference needs no expectations under {server}: {sorted(beyond_parser)}"
