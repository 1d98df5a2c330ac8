"""Broken: If-Range is ignored: a Range is served even when the client's copy is stale, so the client
splices a part of the new file into its old copy."""

import reference.ranges as R
from reference.app import make_app

R.if_range_holds = lambda headers, v: True
app = make_app()
SELECT = ("files.conditional*", "files.range*")
CAUGHT_BY = {"files.conditional.if-range"}
