"""Broken: an off-by-one range end: ``first-last`` is read as a half-open range (``last`` excluded), so
``bytes=100-199`` gets bytes 100-198, labelled honestly ``bytes 100-198/...`` but not what was asked."""

import reference.ranges as R
from reference.app import make_app

_parse = R.parse_ranges


def parse_ranges(value, size):
    found = _parse(value, size)
    if not found:
        return found
    return [(first, last - 1) if last > first else (first, last) for first, last in found]


R.parse_ranges = parse_ranges
app = make_app()
SELECT = "files.range.*"
CAUGHT_BY = {"files.range.single", "files.range.multi"}
