"""Compare two results files: is the candidate (a framework upgrade, say) safe to merge?

The core is a pure function over two parsed results documents (``compare``), returning a ``Comparison``
of plain data; the command (``streamspec compare BASE.json CANDIDATE.json``) only loads, prints and
picks the exit status. It judges what each case *did* in each run, not how the run's expectations file
labelled it: a case that passed before and now fails is a new failure even if someone has meanwhile
listed it as expected to fail.

What counts as a regression (exit status 1):
- a new failure: passed (or was intermittent) in the base, fails in the candidate; or passed in the base
  and is intermittent in the candidate;
- a newly unsupported case: judged in the base, ``unsupported`` in the candidate (the upgrade can no
  longer be checked on it, so it is not shown safe).
Reported, never a regression: fixes, cases only one side ran (suites of different versions), and figures
that moved beyond the tolerance. Timing figures are measured on whatever machine ran each file, so by
default they inform and do not gate; ``--fail-on-figures`` makes a worse figure a regression too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: What a case did in a run, from its recorded outcome.
PASSED = {"pass", "unexpected-pass"}
FAILED = {"fail", "error", "expected-fail"}

#: Figures compared between runs: name → (better direction, absolute change below which a move is noise,
#: unit). A move counts when it is worse by more than the relative tolerance *and* the absolute floor.
FIGURES: dict[str, tuple[str, float, str]] = {
    "cleanup_latency_ms": ("lower", 20.0, "ms"),
    "small_request_latency_ms": ("lower", 50.0, "ms"),
    "median_latency_ms": ("lower", 20.0, "ms"),
    "head_ms": ("lower", 50.0, "ms"),
    "time_to_first_byte_ms": ("lower", 50.0, "ms"),
    "close_after_abort_ms": ("lower", 50.0, "ms"),
    "released_after_ms": ("lower", 50.0, "ms"),
    "settled_ms": ("lower", 50.0, "ms"),
    "memory_growth_mib": ("lower", 8.0, "MiB"),
    "max_lead_bytes": ("lower", 1024 * 1024, "bytes"),
    "lead_bytes": ("lower", 1024 * 1024, "bytes"),
    "max_lead_mib": ("lower", 1.0, "MiB"),
    "chunks_after_abort": ("lower", 5, "chunks"),
    "throughput_mib_s": ("higher", 10.0, "MiB/s"),
    "upload_mib_s": ("higher", 10.0, "MiB/s"),
}


def behaviour(case: dict) -> str:
    """``pass``, ``fail``, ``intermittent`` or ``unsupported``: what the case did in its run."""
    outcome = case.get("outcome", "")
    if outcome in PASSED:
        return "pass"
    if outcome in FAILED:
        return "fail"
    return outcome or "unknown"


@dataclass
class Change:
    case: str
    level: str
    before: str  # the recorded outcome in the base
    after: str  # ... and in the candidate
    reason: str = ""  # the candidate's reason (its failure message)


@dataclass
class FigureMove:
    case: str
    figure: str
    before: float
    after: float
    unit: str
    worse: bool

    def describe(self) -> str:
        word = "worse" if self.worse else "better"
        return f"{self.case} {self.figure}: {self.before:g} -> {self.after:g} {self.unit} ({word})"


@dataclass
class Comparison:
    base: str  # "adapter/server, framework X.Y" of each side
    candidate: str
    version_changes: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    new_failures: list[Change] = field(default_factory=list)
    newly_intermittent: list[Change] = field(default_factory=list)
    newly_unsupported: list[Change] = field(default_factory=list)
    fixes: list[Change] = field(default_factory=list)
    only_in_base: list[str] = field(default_factory=list)
    only_in_candidate: list[str] = field(default_factory=list)
    figures: list[FigureMove] = field(default_factory=list)
    fail_on_figures: bool = False

    @property
    def worse_figures(self) -> list[FigureMove]:
        return [m for m in self.figures if m.worse]

    @property
    def regressed(self) -> bool:
        return bool(self.new_failures or self.newly_intermittent or self.newly_unsupported
                    or (self.fail_on_figures and self.worse_figures))


def describe_run(doc: dict) -> str:
    """``sanic/sanic (sanic 25.12.1, python 3.11.7)``: what a results file is of."""
    adapter, server = doc.get("adapter", "?"), doc.get("server", "?")
    versions = doc.get("versions", {})
    named = dict.fromkeys(f"{k} {versions[k]}" for k in (adapter, server, "python") if k in versions)
    return f"{adapter}/{server}" + (f" ({', '.join(named)})" if named else "")


def compare(base: dict, candidate: dict, tolerance: float = 0.5, fail_on_figures: bool = False) -> Comparison:
    """Compare two parsed results documents. ``tolerance``: the relative move of a figure that is
    reported (0.5: 50 % worse or better), on top of each figure's absolute floor."""
    out = Comparison(describe_run(base), describe_run(candidate), fail_on_figures=fail_on_figures)
    vb, vc = base.get("versions", {}), candidate.get("versions", {})
    out.version_changes = [(k, vb.get(k), vc.get(k)) for k in sorted(set(vb) | set(vc)) if vb.get(k) != vc.get(k)]
    before = {c["id"]: c for c in base.get("cases", [])}
    after = {c["id"]: c for c in candidate.get("cases", [])}
    out.only_in_base = sorted(set(before) - set(after))
    out.only_in_candidate = sorted(set(after) - set(before))
    for case_id in sorted(set(before) & set(after)):
        b, a = before[case_id], after[case_id]
        was, now = behaviour(b), behaviour(a)
        change = Change(case_id, a.get("level", b.get("level", "")), b.get("outcome", ""), a.get("outcome", ""),
                        a.get("reason", ""))
        if now == "fail" and was in ("pass", "intermittent"):
            out.new_failures.append(change)
        elif now == "intermittent" and was == "pass":
            out.newly_intermittent.append(change)
        elif now == "unsupported" and was != "unsupported":
            out.newly_unsupported.append(change)
        elif now == "pass" and was in ("fail", "intermittent"):
            out.fixes.append(change)
        if was == now == "pass":
            out.figures += _figure_moves(case_id, b.get("figures", {}), a.get("figures", {}), tolerance)
    return out


def _figure_moves(case_id: str, before: dict, after: dict, tolerance: float) -> list[FigureMove]:
    moves = []
    for name, (better, floor, unit) in FIGURES.items():
        x, y = before.get(name), after.get(name)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (x, y)):
            continue
        delta = y - x
        if abs(delta) < floor or abs(delta) <= tolerance * abs(x):
            continue
        worse = delta > 0 if better == "lower" else delta < 0
        moves.append(FigureMove(case_id, name, x, y, unit, worse))
    return moves


def render(result: Comparison) -> str:
    """The text the command prints: what is compared, then each kind of change, then the verdict."""
    lines = [f"base:      {result.base}", f"candidate: {result.candidate}"]
    if result.version_changes:
        lines.append("versions:  " + ", ".join(f"{k} {b or '-'} -> {c or '-'}" for k, b, c in result.version_changes))
    else:
        lines.append("versions:  the same")

    def section(title: str, changes: list[Change], with_reason: bool = True) -> None:
        if not changes:
            return
        lines.append(f"\n{title} ({len(changes)}):")
        for c in changes:
            reason = f"  {c.reason.splitlines()[0][:160]}" if with_reason and c.reason else ""
            lines.append(f"  {c.case:<40} {c.level:<6} {c.before} -> {c.after}{reason}")

    section("NEW FAILURES", result.new_failures)
    section("NEWLY INTERMITTENT", result.newly_intermittent)
    section("NEWLY UNSUPPORTED", result.newly_unsupported)
    section("fixed", result.fixes, with_reason=False)
    if result.only_in_base or result.only_in_candidate:
        lines.append(f"\nnot compared: {len(result.only_in_base)} case(s) only in the base, "
                     f"{len(result.only_in_candidate)} only in the candidate (suites of different versions?)")
        lines += [f"  only in base:      {c}" for c in result.only_in_base[:20]]
        lines += [f"  only in candidate: {c}" for c in result.only_in_candidate[:20]]
    if result.figures:
        gate = "gating" if result.fail_on_figures else "informative; --fail-on-figures to gate on them"
        lines.append(f"\nfigures beyond the tolerance ({len(result.figures)}, {gate}):")
        lines += [f"  {m.describe()}" for m in result.figures]
    verdict = "REGRESSED" if result.regressed else "no regression"
    lines.append(f"\n{verdict}: {len(result.new_failures)} new failures, {len(result.newly_intermittent)} newly "
                 f"intermittent, {len(result.newly_unsupported)} newly unsupported, {len(result.fixes)} fixed, "
                 f"{len(result.worse_figures)} figures worse")
    return "\n".join(lines)
