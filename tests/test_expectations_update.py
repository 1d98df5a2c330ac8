"""``streamspec expectations --from RESULTS.json``: the run's unlisted failures become entries narrowed to
its server; entries for this server that the run shows fixed go; comments and existing reasons stay;
errors are never written as accepted; the result loads as the suite reads it."""

import copy
import json
import subprocess
import sys
import tomllib

from conformance import expectations
from streamspec.expectations_update import update

from .suite_runner import ROOT

EXISTING = """# Known failures (hand comment with a finding link: reports/findings/x.md)

[[expected]]
case = "a.fixed"
server = "uvicorn"
reason = "fixed since (finding X1)"

[[expected]]
case = "a.still.*"
reason = "still failing (finding X2)"

# a later comment

[[expected]]
case = "a.everywhere"
reason = "fails on another server (finding X3)"
"""


def results(**outcomes) -> dict:
    return {"schema": "streamspec.results/1", "adapter": "fw", "server": "uvicorn", "finished": "2026-11-22T00:00:00Z",
            "versions": {"fw": "1.2.3"},
            "cases": [{"id": i.replace("_", "."), "outcome": o, "reason": f"AssertionError: {i} broke\nmore"}
                      for i, o in outcomes.items()]}


def test_update_adds_removes_keeps_and_reports(tmp_path):
    run = results(a_fixed="unexpected-pass", a_still_one="expected-fail", a_everywhere="pass",
                  a_new="fail", a_broken="error", a_fine="pass")
    result = update(EXISTING, run)
    assert result.added == ["a.new"] and result.removed == ["a.fixed (server uvicorn)"]
    assert result.kept_passing == ["a.everywhere"] and result.errors == ["a.broken"]
    text = result.text
    assert "# Known failures (hand comment with a finding link: reports/findings/x.md)" in text
    assert "# a later comment" in text and "finding X2" in text and "finding X1" not in text
    path = tmp_path / "exp.toml"
    path.write_text(text)
    loaded = expectations.load(path, "uvicorn")
    new = loaded.for_case("a.new")
    assert new is not None and new.reason == "fw 1.2.3: AssertionError: a_new broke more"
    assert loaded.for_case("a.fixed") is None and loaded.for_case("a.still.one") is not None
    assert expectations.load(path, "hypercorn").for_case("a.new") is None  # narrowed to the run's server
    assert update(text, run).added == []  # a second update adds nothing


def test_pin_version_and_an_empty_file(tmp_path):
    result = update("", results(a_new="fail"), pin_version=True)
    entry = tomllib.loads(result.text)["expected"][0]
    assert entry["versions"] == ["fw==1.2.3"] and entry["server"] == "uvicorn"


def test_command_updates_an_adapters_file_from_a_real_results_file(tmp_path):
    """A committed matrix results file, with one passing case turned into a failure: the command adds
    exactly it to a copy of the adapter's file, and a run with that file would accept it."""
    doc = json.loads((ROOT / "reports/results/sanic-sanic.json").read_text())
    broken = copy.deepcopy(doc)
    case = next(c for c in broken["cases"] if c["outcome"] == "pass")
    case.update(outcome="fail", reason="AssertionError: made up for this test")
    src = tmp_path / "results.json"
    src.write_text(json.dumps(broken))
    exp = tmp_path / "sanic_expectations.toml"
    exp.write_text((ROOT / "adapters/sanic_expectations.toml").read_text())
    proc = subprocess.run([sys.executable, "-m", "streamspec", "expectations", "--from", str(src), "--file", str(exp)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert f"+ {case['id']}" in proc.stdout and "added 1, removed 0" in proc.stdout
    assert expectations.load(exp, "sanic").for_case(case["id"]).reason.startswith("sanic 25.12.1: AssertionError")
    again = subprocess.run([sys.executable, "-m", "streamspec", "expectations", "--from", str(src), "--file",
                            str(exp)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert "added 0, removed 0" in again.stdout
