"""Version-aware expectations: an entry with ``versions`` applies only where they hold in the server's
interpreter; one that does not hold is reported in the run's output and results file, never silently
applied. A malformed specifier is a usage error, not an ignored line."""

from importlib.metadata import version

import pytest

from conformance import expectations

from .suite_runner import run_suite

UVICORN = version("uvicorn")


def write(tmp_path, versions: str) -> str:
    path = tmp_path / "exp.toml"
    path.write_text(f'[[expected]]\ncase = "chunking.head"\nversions = {versions}\nreason = "a test"\n')
    return str(path)


def test_load_applies_only_where_the_versions_hold(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text('[[expected]]\ncase = "a.*"\nversions = ["sanic<26"]\nreason = "old sanic"\n'
                    '[[expected]]\ncase = "b.*"\nversions = "granian>=2.8"\nreason = "new granian"\n')
    old = expectations.load(path, "sanic", {"sanic": "25.12.1", "granian": "2.7.0"})
    assert old.for_case("a.x") is not None and old.for_case("b.x") is None
    assert [why for _, why in old.not_applied] == ["granian>=2.8: granian 2.7.0 is installed"]
    new = expectations.load(path, "sanic", {"sanic": "26.0", "granian": "2.8.7"})
    assert new.for_case("a.x") is None and new.for_case("b.x") is not None
    missing = expectations.load(path, "sanic", {"sanic": "not installed", "granian": "2.8.7"})
    assert [why for _, why in missing.not_applied] == ["sanic<26: sanic is not installed"]
    assert expectations.named_distributions(path) == ["granian", "sanic"]


def test_malformed_versions_are_an_error(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text('[[expected]]\ncase = "a.*"\nversions = ["sanic<<26"]\nreason = "typo"\n')
    with pytest.raises(expectations.ExpectationsError, match="sanic<<26"):
        expectations.load(path, "sanic", {})


def test_a_run_applies_a_matching_entry_and_reports_one_that_does_not(tmp_path):
    # chunking.head passes on the reference: an expectation that applies turns it into an unexpected pass.
    applies = run_suite(tmp_path / "a.json", "--workers=1", "--expectations=" + write(tmp_path, '["uvicorn>=0.1"]'),
                        select="chunking.head", timeout=120)
    assert applies.returncode == 1 and applies.ids_with("unexpected-pass") == {"chunking.head"}, applies.output
    assert applies.results["expectations_not_applied"] == []
    stale = run_suite(tmp_path / "s.json", "--workers=1", "--expectations=" + write(tmp_path, '["uvicorn<0.1"]'),
                      select="chunking.head", timeout=120)
    assert stale.returncode == 0 and stale.ids_with("pass") == {"chunking.head"}, stale.output
    assert stale.results["expectations_not_applied"][0]["why"] == f"uvicorn<0.1: uvicorn {UVICORN} is installed"
    assert "expectation for chunking.head not applied (uvicorn<0.1" in stale.output
    bad = run_suite(tmp_path / "b.json", "--workers=1", "--expectations=" + write(tmp_path, '["uvicorn<<1"]'),
                    select="chunking.head", timeout=120)
    assert bad.returncode != 0 and "uvicorn<<1" in bad.output and bad.results is None
