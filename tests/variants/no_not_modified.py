"""Broken: never answers 304: If-None-Match and If-Modified-Since are ignored (validators still sent)."""

import reference.ranges as R
from reference.app import make_app

R.not_modified = lambda headers, v: False
app = make_app()
SELECT = ("files.conditional*", "files.validators")
CAUGHT_BY = {"files.conditional"}
