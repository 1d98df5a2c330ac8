"""How a conformance case declares itself: a stable id, a level, and the clause it checks.

    @case("chunking.flush-per-write", "MUST", "RFC 9112 §7.1; ASGI HTTP spec 'Response Body'")
    def test_flush_per_write(target, figures): ...

The test's docstring starts with the requirement it checks, quoted (h2spec style). ``requires`` names
capabilities (``streamspec.adapter.CAPABILITIES``) the case needs; an adapter lacking one gets the case
reported "unsupported" with the adapter's reason.
"""

from __future__ import annotations

import pytest

from streamspec.adapter import CAPABILITIES

LEVELS = ("MUST", "SHOULD", "INFO")


def case(case_id: str, level: str, source: str, requires: tuple[str, ...] = ()):
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    unknown = set(requires) - set(CAPABILITIES)
    if unknown:  # a misspelt capability would silently never be reported unsupported
        raise ValueError(f"case {case_id}: unknown capabilities {sorted(unknown)}; known: {sorted(CAPABILITIES)}")
    return pytest.mark.streamspec(id=case_id, level=level, source=source, requires=tuple(requires))


def case_info(item) -> dict | None:
    mark = item.get_closest_marker("streamspec")
    return dict(mark.kwargs) if mark else None
