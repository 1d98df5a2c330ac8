"""Broken: checks the *raw* name for ``..`` and separators, then decodes it and joins it to the root
without resolving: ``%2e%2e%2f`` walks out of the root."""

from pathlib import Path
from urllib.parse import unquote

import reference.files as F
from reference.app import make_app
from streamspec.files import served_root


def name_from(scope, prefix):
    raw = (scope.get("raw_path") or scope["path"].encode()).split(b"?", 1)[0][len(prefix.encode()):]
    text = raw.decode("latin-1")
    if not text or ".." in text or "/" in text:
        return None
    return unquote(text)


def resolve(name):
    path = Path(served_root()) / name if name else None
    return path if path is not None and path.is_file() else None


F.name_from, F.resolve = name_from, resolve
app = make_app()
SELECT = ("files.traversal.*", "files.get.*", "files.disposition.*")
CAUGHT_BY = {"files.traversal.native", "files.traversal.streamed"}
