"""Proof that the conformance suite has teeth: each broken variant fails exactly the cases listed for
it, every case is failed by at least one variant, and the correct reference passes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import tests.variants as variants
from tests.suite_runner import ROOT, run_suite, variant_args, variant_meta


def all_case_ids() -> set[str]:
    """Case ids declared in conformance/test_*.py, read from their @case(...) decorators."""
    ids = set()
    for path in (ROOT / "conformance").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "case" and node.args:
                ids.add(ast.literal_eval(node.args[0]))
    return ids


@pytest.mark.parametrize("name", variants.names())
def test_variant_is_caught_by_exactly_its_cases(name, tmp_path):
    args, select, caught = variant_args(name)
    assert caught, f"variant {name} declares no CAUGHT_BY"
    run = run_suite(tmp_path / "results.json", *args, select=select)
    assert run.results is not None, f"no results file; output:\n{run.output}"
    assert run.returncode != 0, "the suite passed a broken server"
    assert run.failed == caught, (
        f"variant {name}: failing cases differ from CAUGHT_BY\n  unexpected: {sorted(run.failed - caught)}\n"
        f"  not caught: {sorted(caught - run.failed)}\n{run.output}")


def test_every_case_is_caught_by_some_variant():
    caught = set().union(*(set(variant_meta(n)["CAUGHT_BY"] or ()) for n in variants.names()))
    uncaught = all_case_ids() - caught
    assert not uncaught, f"cases no broken variant fails (they cannot be shown to fail): {sorted(uncaught)}"


@pytest.mark.parametrize("server", ["uvicorn", "hypercorn", "granian"])
def test_reference_passes(server, tmp_path):
    """Every MUST and SHOULD case passes on the reference; under granian, the documented expectation
    (reference/expectations.toml) is the only exception."""
    run = run_suite(tmp_path / "results.json", "--adapter=reference", f"--server={server}")
    assert run.returncode == 0, run.output
    bad = run.ids_with("fail", "error", "unexpected-pass", "unsupported")
    assert not bad, f"reference under {server} did not pass: {sorted(bad)}\n{run.output}"
    if server != "granian":
        assert not run.ids_with("expected-fail"), "the reference needs no expectations under " + server
