"""CPU seconds a case cost, on both sides of the socket.

A run's wall time on a 2-core machine is bounded below by its CPU time divided by the cores, whatever
the schedule of its parts; the speed budgets cannot be judged, or chased, without knowing which cases
spend it and on which side (the suite's client, or the server under test). Each case records
``cpu_s = {"suite": ..., "server": ...}`` in the results file: the runner process's CPU (all its
threads, plus children it reaped, e.g. a browser) and the server tree's CPU (per process, so a worker
that came or went mid-case does not skew the difference) between the start of the case and its end.
These are INFO measurements for ``python -m conformance.bench``, never a verdict.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def suite_cpu() -> float:
    """CPU seconds of this process (every thread) and of its reaped children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class CpuMark:
    """Readings at the start of a case; ``spent()`` gives what the case used since."""
    process: object | None  # streamspec.launch.ServerProcess, or None for an external server
    suite: float = field(default_factory=suite_cpu)
    server: dict[int, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.process is not None:
            self.server = self.process.cpu_by_pid()

    def spent(self) -> dict:
        used = {"suite": round(suite_cpu() - self.suite, 3)}
        if self.process is not None:
            now = self.process.cpu_by_pid()
            used["server"] = round(sum(cpu - self.server.get(pid, 0.0) for pid, cpu in now.items()), 3)
        return used
