"""How a conformance case declares itself: a stable id, a level, and the clause it checks.

    @case("chunking.flush-per-write", "MUST", "RFC 9112 §7.1; ASGI HTTP spec 'Response Body'")
    def test_flush_per_write(target, figures): ...

The test's docstring starts with the requirement it checks, quoted (h2spec style). ``requires`` names
capabilities (``streamspec.adapter.CAPABILITIES``) the case needs; an adapter lacking one gets the case
reported "unsupported" with the adapter's reason.

``framed=True`` runs the case once per framing: the test takes a ``framing`` argument (``chunked`` or
``length``, see ``FRAMINGS``) and each run is its own case, ``<id>.chunked`` and ``<id>.length``, in the
results, the expectations and ``--case`` globs. Servers and frameworks take different code paths for a
declared length and for chunked coding, so a family that holds for one says nothing about the other.

A case that tests behaviour *while* something holds (mid-stream, idle, blocked on backpressure) first
proves from the probe or the wire that it held. ``precondition(ok, why)`` raises ``PreconditionNotMet``
when it did not: the outcome is then ``error: precondition not met: ...``, never ``pass``. Where the
precondition is itself a requirement (a bounded lead), the case asserts it as a failure instead.
"""

from __future__ import annotations

import pytest

from streamspec.adapter import CAPABILITIES

LEVELS = ("MUST", "SHOULD", "INFO")
FRAMINGS = ("chunked", "length")


class PreconditionNotMet(Exception):
    """The situation a case tests never arose, so the case cannot judge it (outcome ``error``)."""


def precondition(ok: object, why: str) -> None:
    if not ok:
        raise PreconditionNotMet(why)


def case(case_id: str, level: str, source: str, requires: tuple[str, ...] = (), framed: bool = False):
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    unknown = set(requires) - set(CAPABILITIES)
    if unknown:  # a misspelt capability would silently never be reported unsupported
        raise ValueError(f"case {case_id}: unknown capabilities {sorted(unknown)}; known: {sorted(CAPABILITIES)}")
    if not framed:
        return pytest.mark.streamspec(id=case_id, level=level, source=source, requires=tuple(requires))
    params = [pytest.param(f, id=f, marks=pytest.mark.streamspec(id=f"{case_id}.{f}", level=level, source=source,
                                                                 requires=tuple(requires)))
              for f in FRAMINGS]
    return pytest.mark.parametrize("framing", params)


def case_info(item) -> dict | None:
    mark = item.get_closest_marker("streamspec")
    return dict(mark.kwargs) if mark else None
