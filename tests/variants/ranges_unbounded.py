"""Broken: any number of ranges, none coalesced: 200 whole-file ranges make a 200-part multipart of the
whole file (an amplification RFC 9110 §14.2 warns of)."""

import reference.ranges as R
from reference.app import make_app

R.MAX_RANGES = 10**6
R.coalesce = lambda ranges: ranges
app = make_app()
SELECT = "files.range*"
CAUGHT_BY = {"files.range.hostile"}
