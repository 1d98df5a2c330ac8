"""Flush-timing judgements shared by the byte-stream and SSE cases.

Ordering alone is not enough: a server that holds every write for 100 ms still delivers chunk i before
chunk i+1 exists when they are 300 ms apart, and one that coalesces pairs passes or fails by the clock
error. A loaded machine, though, stalls now and then: with two suites on 2 cores, three events in a row
arrived 108, 418 and 115 ms after they were produced by the reference, which holds nothing. So a flush is
judged by what only a holding or coalescing server does, with margins far from both:

* the prompt items: at least ``PROMPT_ITEMS`` of the six arrive within ``bounds.FLUSH_PROMPT_S`` (50 ms)
  of being produced (a server that holds every write, even by 100 ms, has none; a stalled machine still
  delivers the items before and after its stall at once: the reference's are about 1 ms);
* the late items: at most ``LATE_ITEMS`` arrive later than ``bounds.FLUSH_WORST_SHARE`` of the gap to the
  next one (a server that coalesces pairs holds every other item a whole gap: three of six);
* coalesced arrivals: at most ``LATE_ITEMS`` consecutive items arrive less than that share of a gap apart
  (not counting the gap right after a late item, which is the same stall).
"""

from __future__ import annotations

import statistics

from . import bounds
from .helpers import ms

PROMPT_ITEMS = 2  # of six, at least this many arrive within bounds.FLUSH_PROMPT_S
LATE_ITEMS = 2  # of six, at most this many may miss the share bound (coalescing pairs makes three)


def judge_flush(figures: dict, arrivals: list, produced: list, gap_s: float, clock_error: float,
                noun: str) -> None:
    missing = [i for i, (a, p) in enumerate(zip(arrivals, produced)) if a is None or p is None]
    assert not missing, f"{noun}(s) {missing} never arrived or were never produced"
    latencies = [a - p for a, p in zip(arrivals, produced)]
    median = statistics.median(latencies)
    worst_allowed = gap_s * bounds.FLUSH_WORST_SHARE
    figures.update({f"{noun}_latency_ms": [ms(x) for x in latencies], "median_latency_ms": ms(median),
                    "clock_error_ms": ms(clock_error)})
    prompt = [i for i, x in enumerate(latencies) if x - clock_error <= bounds.FLUSH_PROMPT_S]
    held = [i for i, x in enumerate(latencies) if x - clock_error > worst_allowed]
    figures.update(prompt_items=len(prompt), late_items=len(held))
    assert len(prompt) >= PROMPT_ITEMS, (
        f"only {len(prompt)} of {len(latencies)} {noun}s arrived within {ms(bounds.FLUSH_PROMPT_S)} ms of being "
        f"produced (at least {PROMPT_ITEMS} must): every write is held back (latencies "
        f"{figures[f'{noun}_latency_ms']} ms, median {ms(median)} ms)")
    assert len(held) <= LATE_ITEMS, (
        f"{noun}(s) {held} arrived {[ms(latencies[i]) for i in held]} ms after they were produced, more than "
        f"{ms(worst_allowed)} ms (half the {ms(gap_s)} ms gap to the next): writes are held back or "
        f"coalesced (latencies {figures[f'{noun}_latency_ms']} ms)")
    together = [i for i in range(1, len(arrivals)) if arrivals[i] - arrivals[i - 1] < worst_allowed]
    figures["arrival_gaps_ms"] = [ms(b - a) for a, b in zip(arrivals, arrivals[1:])]
    # one late item also shortens the gap after it: that pair is the same outlier, not coalescing
    together = [i for i in together if i - 1 not in held]
    assert len(together) <= LATE_ITEMS, (
        f"{noun}s {[(i - 1, i) for i in together]} arrived less than {ms(worst_allowed)} ms apart although "
        f"they were produced {ms(gap_s)} ms apart: writes are coalesced (gaps {figures['arrival_gaps_ms']} ms)")
