"""How a conformance case declares itself: a stable id, a level, and the clause it checks.

    @case("chunking.flush-per-write", "MUST", "RFC 9112 §7.1; ASGI HTTP spec 'Response Body'")
    def test_flush_per_write(target, figures): ...

The test's docstring starts with the requirement it checks, quoted (h2spec style). ``requires`` names
capabilities (``streamspec.adapter.CAPABILITIES``) the case needs; an adapter lacking one gets the case
reported "unsupported" with the adapter's reason.

``endpoints=("native", "streamed")`` does the same for the two download endpoints of the files family
(``<id>.native`` is ``/file/<name>``, ``<id>.streamed`` is ``/file-stream/<name>``; the test takes an
``endpoint`` argument).

``framed=True`` runs the case once per framing: the test takes a ``framing`` argument (``chunked`` or
``length``, see ``FRAMINGS``) and each run is its own case, ``<id>.chunked`` and ``<id>.length``, in the
results, the expectations and ``--case`` globs. Servers and frameworks take different code paths for a
declared length and for chunked coding, so a family that holds for one says nothing about the other.

Every case's node id carries its case id as the parameter: ``test_x[abort.idle.chunked]``, and for a
case with neither framings nor endpoints ``test_x[chunking.head]`` (a one-value parametrization over
``streamspec_case``, ``conformance/conftest.py``), so ``-v``, ``-k``, node ids and JUnit XML all name it.

``fresh_server=True``: the case gets a server started for it alone (the run's server is restarted first).
Memory cases need it: memory that earlier cases freed inside the server is reused without the process
growing, so a baseline taken mid-run would hide a server that keeps a whole file.

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
#: the two download endpoints of the files contract (``streamspec.files``): the framework's native file
#: response (``/file/<name>``) and the hand-written streamed download its docs show (``/file-stream/<name>``)
ENDPOINTS = ("native", "streamed")


class PreconditionNotMet(Exception):
    """The situation a case tests never arose, so the case cannot judge it (outcome ``error``)."""


def precondition(ok: object, why: str) -> None:
    if not ok:
        raise PreconditionNotMet(why)


def case(case_id: str, level: str, source: str, requires: tuple[str, ...] = (), framed: bool = False,
         endpoints: tuple[str, ...] = (), fresh_server: bool = False):
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    unknown = set(requires) - set(CAPABILITIES)
    if unknown:  # a misspelt capability would silently never be reported unsupported
        raise ValueError(f"case {case_id}: unknown capabilities {sorted(unknown)}; known: {sorted(CAPABILITIES)}")
    if endpoints:
        if set(endpoints) - set(ENDPOINTS):
            raise ValueError(f"case {case_id}: endpoints must be among {ENDPOINTS}")
        return _over("endpoint", endpoints, case_id, level, source, requires, fresh_server)
    if not framed:  # one value, so the node id carries the case id: test_x[chunking.head]
        mark = pytest.mark.streamspec(id=case_id, level=level, source=source, requires=tuple(requires),
                                      fresh_server=fresh_server)
        return pytest.mark.parametrize("streamspec_case", [pytest.param(case_id, id=case_id, marks=mark)])
    return _over("framing", FRAMINGS, case_id, level, source, requires, fresh_server)


def _over(argname: str, values: tuple[str, ...], case_id: str, level: str, source: str, requires,
          fresh_server: bool) -> object:
    """One case per value, ``<id>.<value>`` (also its node id's parameter), the value passed as ``argname``."""
    params = [pytest.param(v, id=f"{case_id}.{v}", marks=pytest.mark.streamspec(id=f"{case_id}.{v}", level=level, source=source,
                                                                 requires=tuple(requires), fresh_server=fresh_server))
              for v in values]
    return pytest.mark.parametrize(argname, params)


def case_info(item) -> dict | None:
    mark = item.get_closest_marker("streamspec")
    return dict(mark.kwargs) if mark else None
