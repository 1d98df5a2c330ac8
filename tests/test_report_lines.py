"""The run's closing report speaks in case ids: with -v a line per case (id, level, outcome, key figure);
always the failing cases with their key figure and a table of the expected failures. Built from
results entries as a run records them; no server needed."""

from conformance.key_figures import key_figure
from conformance.plugin import _print_report


def entry(case_id, outcome, figures=None, reason=""):
    return {"id": case_id, "level": "MUST", "outcome": outcome, "figures": figures or {}, "reason": reason}


CASES = [
    entry("abort.fin-cleanup.chunked", "pass", {"cleanup_latency_ms": 0.2, "chunks_after_abort": 0}),
    entry("backpressure.stalled-reader.length", "fail", {"lead_bytes": 64 * 1024 * 1024},
          "AssertionError: the producer ran 64.0 MiB ahead"),
    entry("sse.flush-per-event", "expected-fail", {"median_latency_ms": 250.0},
          "expected failure: fw 1.0 batches events (finding F1)"),
]


def test_key_figure_picks_the_telling_one():
    assert key_figure({"chunks_after_abort": 0, "cleanup_latency_ms": 0.2}) == "cleanup 0.2 ms"
    assert key_figure({"max_lead_bytes": 4 * 1024 * 1024}) == "lead 4.0 MiB"
    assert key_figure({"median_latency_ms": 3.9}) == "arrival gap 3.9 ms"
    assert key_figure({"received": 10}) == ""


def test_report_lines_per_case_and_tables():
    lines = []
    _print_report(CASES, {"adapter": "fw", "server": "uvicorn"}, "r.json", lines.append, verbose=True)
    text = "\n".join(lines)
    assert any(line.split() == ["abort.fin-cleanup.chunked", "MUST", "pass", "cleanup", "0.2", "ms"] for line in lines)
    assert ("backpressure.stalled-reader.length  MUST  fail  [lead 64.0 MiB]: AssertionError: the producer ran"
            in text)
    table = lines[lines.index(next(x for x in lines if "expected failures and known intermittents" in x)) + 1]
    assert table.split()[:6] == ["sse.flush-per-event", "MUST", "expected-fail", "arrival", "gap", "250"]
    assert table.endswith("fw 1.0 batches events (finding F1)")
    quiet = []
    _print_report(CASES, {"adapter": "fw", "server": "uvicorn"}, "r.json", quiet.append)
    assert not any(line.startswith("abort.fin-cleanup") for line in quiet)  # per-case lines only with -v
