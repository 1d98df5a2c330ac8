"""Broken: the range unit is not checked: ``chars=0-1`` is served as if it were ``bytes=0-1``."""

import reference.ranges as R
from reference.app import make_app

_parse = R.parse_ranges
R.parse_ranges = lambda value, size: _parse("bytes=" + value.partition("=")[2], size)
app = make_app()
SELECT = "files.range*"
CAUGHT_BY = {"files.range.invalid"}
