"""``streamspec compare``: a regression (new failure, newly intermittent, newly unsupported) exits 1 and is
named; fixes, figure moves and cases only one side ran are reported without failing; bad input is one line
and exit 2. Documents are built here, as a results file of a run would be."""

import json
import subprocess
import sys

from streamspec.compare import compare, render

from .suite_runner import ROOT


def doc(adapter="sanic", version="25.12.1", **outcomes) -> dict:
    cases = []
    for case_id, spec in outcomes.items():
        outcome, figures = spec if isinstance(spec, tuple) else (spec, {})
        cases.append({"id": case_id.replace("_", "."), "level": "MUST", "outcome": outcome, "figures": figures,
                      "reason": f"why {case_id}" if outcome != "pass" else ""})
    return {"schema": "streamspec.results/1", "adapter": adapter, "server": adapter,
            "versions": {"python": "3.11.7", adapter: version}, "cases": cases}


def test_new_failure_is_a_regression_named_with_both_versions():
    base = doc(a_one="pass", a_two="pass", a_three="fail")
    cand = doc(version="26.0.0", a_one="fail", a_two="pass", a_three="pass")
    result = compare(base, cand)
    assert [c.case for c in result.new_failures] == ["a.one"]
    assert [c.case for c in result.fixes] == ["a.three"]
    assert result.regressed
    text = render(result)
    assert "sanic 25.12.1 -> 26.0.0" in text and "NEW FAILURES (1)" in text and "why a_one" in text
    assert text.splitlines()[-1].startswith("REGRESSED")


def test_an_expected_failure_is_still_a_failure():
    """Listing a newly failing case as expected does not make the upgrade safe: compare judges behaviour."""
    result = compare(doc(a_one="pass"), doc(a_one="expected-fail"))
    assert [c.case for c in result.new_failures] == ["a.one"] and result.regressed


def test_intermittent_and_unsupported_are_regressions_fixes_are_not():
    result = compare(doc(a_one="pass", a_two="pass", a_three="intermittent"),
                     doc(a_one="intermittent", a_two="unsupported", a_three="pass"))
    assert [c.case for c in result.newly_intermittent] == ["a.one"]
    assert [c.case for c in result.newly_unsupported] == ["a.two"]
    assert [c.case for c in result.fixes] == ["a.three"]
    assert result.regressed
    assert not compare(doc(a_one="fail"), doc(a_one="pass")).regressed


def test_figures_beyond_tolerance_inform_unless_asked_to_gate():
    base = doc(a_one=("pass", {"cleanup_latency_ms": 2.0}), a_two=("pass", {"cleanup_latency_ms": 100.0}),
               a_three=("pass", {"throughput_mib_s": 400.0}))
    cand = doc(a_one=("pass", {"cleanup_latency_ms": 9.0}),  # 4.5x, but 7 ms: under the 20 ms floor
               a_two=("pass", {"cleanup_latency_ms": 400.0}),  # worse beyond both
               a_three=("pass", {"throughput_mib_s": 150.0}))  # lower throughput: worse
    result = compare(base, cand)
    assert sorted((m.case, m.worse) for m in result.figures) == [("a.three", True), ("a.two", True)]
    assert not result.regressed
    assert compare(base, cand, fail_on_figures=True).regressed
    assert "cleanup_latency_ms: 100 -> 400 ms (worse)" in render(result)


def test_cases_only_one_side_ran_are_listed_not_failed():
    result = compare(doc(a_one="pass", a_old="pass"), doc(a_one="pass", a_new="fail"))
    assert result.only_in_base == ["a.old"] and result.only_in_candidate == ["a.new"]
    assert not result.regressed


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "streamspec", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_command_exit_status_and_bad_input(tmp_path):
    base, cand, same = tmp_path / "base.json", tmp_path / "cand.json", tmp_path / "same.json"
    base.write_text(json.dumps(doc(a_one="pass")))
    cand.write_text(json.dumps(doc(version="26.0.0", a_one="fail")))
    same.write_text(json.dumps(doc(a_one="pass")))
    regressed = run_cli("compare", str(base), str(cand))
    assert regressed.returncode == 1 and "NEW FAILURES (1)" in regressed.stdout
    assert run_cli("compare", str(base), str(same)).returncode == 0
    missing = run_cli("compare", str(base), str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and missing.stderr.strip().count("\n") == 0 and "no such results file" in missing.stderr
    (tmp_path / "bad.json").write_text("{}")
    assert run_cli("compare", str(base), str(tmp_path / "bad.json")).returncode == 2
