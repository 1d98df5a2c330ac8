"""The one figure that says most about a case's verdict, in words a person reads at a glance
(``cleanup 0.4 ms``, ``lead 4.0 MiB``, ``arrival gap 3.9 ms``): shown beside each case in the run's
summary and in the table of failures. The results file keeps every figure; this only picks and labels.
"""

from __future__ import annotations

MiB = 1024 * 1024

#: In order of preference: figure name, label, how to show the value.
_ORDER: tuple[tuple[str, str, str], ...] = (
    ("cleanup_latency_ms", "cleanup", "ms"),
    ("producers_still_running", "producers left", "n"),
    ("max_lead_bytes", "lead", "bytes"),
    ("lead_bytes", "lead", "bytes"),
    ("max_lead_mib", "lead", "MiB"),
    ("handler_received_mib", "handler received", "MiB"),
    ("memory_growth_mib", "memory growth", "MiB"),
    ("small_request_latency_ms", "small request", "ms"),
    ("median_latency_ms", "arrival gap", "ms"),
    ("head_ms", "head after", "ms"),
    ("close_after_last_byte_ms", "closed after", "ms"),
    ("close_after_abort_ms", "closed after", "ms"),
    ("released_after_ms", "released after", "ms"),
    ("ended_after_cut_ms", "ended after", "ms"),
    ("first_piece_after_ms", "first piece after", "ms"),
    ("throughput_mib_s", "throughput", "MiB/s"),
    ("upload_mib_s", "upload", "MiB/s"),
    ("gave_up_after_s", "gave up after", "s"),
    ("comment_gap_median_ms", "comment gap", "ms"),
    ("outcome", "", "text"),
)


def _show(value, unit: str) -> str:
    if unit == "bytes":
        return f"{value / MiB:.1f} MiB"
    if unit == "n":
        return f"{value}"
    if unit == "text":
        return str(value)
    return f"{value:g} {unit}"


def key_figure(figures: dict) -> str:
    """The case's key figure as ``label value unit``, or "" when it recorded none of them."""
    for name, label, unit in _ORDER:
        value = figures.get(name)
        if value is None or isinstance(value, bool) or (unit != "text" and not isinstance(value, (int, float))):
            continue
        shown = _show(value, unit)
        return f"{label} {shown}".strip()
    return ""
