"""Broken: asks the store for one byte more than the client's range (``a-b`` becomes ``a-(b+1)``) and
passes the store's answer on: a 206 for a range the client did not ask for."""

import re

import reference.objects as O
from reference.app import make_app

_store_range = O._store_range


def store_range(value):
    wanted = _store_range(value)
    match = re.fullmatch(r"bytes=(\d+)-(\d+)", wanted or "")
    return f"bytes={match[1]}-{int(match[2]) + 1}" if match else wanted


O._store_range = store_range
app = make_app()
SELECT = "objects.range*"
CAUGHT_BY = {"objects.range"}
