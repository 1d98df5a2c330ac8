"""Broken: Content-Disposition with the name pasted in raw: UTF-8 bytes in the header, quotes unescaped."""

import reference.files as F
from reference.app import make_app

F.disposition = lambda name: f'attachment; filename="{name}"'.encode("utf-8")
app = make_app()
SELECT = ("files.disposition.*", "files.get.*")
CAUGHT_BY = {"files.disposition.native", "files.disposition.streamed"}
