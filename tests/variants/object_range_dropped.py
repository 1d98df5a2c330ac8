"""Broken: the client's Range never reaches the store: every object request gets the whole object (legal,
but no resumable downloads)."""

import reference.objects as O
from reference.app import make_app

O._store_range = lambda value: None
app = make_app()
SELECT = "objects.range*"
CAUGHT_BY = {"objects.range-supported"}
