"""``--junitxml`` on a run split into concurrent parts holds every case once, each with its ``case_id`` and
``level`` properties (each part used to write the whole file, the last one overwriting the others); and
``-k`` selects cases by their ids."""

import xml.etree.ElementTree as ET

from .suite_runner import run_suite


def test_junit_of_a_concurrent_run_has_every_case_with_its_id(tmp_path):
    xml = tmp_path / "junit.xml"
    run = run_suite(tmp_path / "r.json", "--workers=3", f"--junitxml={xml}",
                    select=("chunking.head", "chunking.headers-first", "abort.idle.*", "errors.*"), timeout=180)
    assert run.returncode == 0 and run.results is not None, run.output
    suite = ET.parse(xml).getroot().find("testsuite")
    cases = suite.findall("testcase")
    ids = [{p.get("name"): p.get("value") for p in tc.iter("property")} for tc in cases]
    expected = {c["id"]: c["level"] for c in run.results["cases"]}
    assert len(run.results["parts"]) == 3
    assert sorted(i["case_id"] for i in ids) == sorted(expected)  # each case once, none lost to another part
    assert all(i["level"] == expected[i["case_id"]] for i in ids)
    assert int(suite.get("tests")) == len(expected)


def test_k_selects_by_case_id(tmp_path):
    run = run_suite(tmp_path / "k.json", "-k", "abort.idle.length or chunking.empty-write", timeout=120)
    assert run.returncode == 0, run.output
    assert {c["id"] for c in run.results["cases"]} == {"abort.idle.length", "chunking.empty-write"}
