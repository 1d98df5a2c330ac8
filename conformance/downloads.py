"""The files and objects a run serves: the fixture tree and the S3-compatible store, made once per run.

The first process that needs them (the sequential runner, or the parent of a concurrent run, or the
matrix) builds the tree in a temporary directory, starts moto, and puts both in its environment
(``STREAMSPEC_FILES_ROOT``, ``STREAMSPEC_STORE_UPSTREAM``); everything it forks or starts then reuses
them, and the creator alone removes them when it exits. Each sequential runner (each part) puts its
own ``StoreRelay`` between its server and the store, so "the store dies" is a case of its own part.
``STREAMSPEC_FILES_DIR`` names a directory holding a tree to reuse across runs (it is never removed).
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from streamspec.files import BUCKET, FILES_ROOT_ENV, S3_BUCKET_ENV, S3_ENDPOINT_ENV, FileTree, build_tree, is_tree

from .store import MotoStore, StoreRelay

UPSTREAM_ENV = "STREAMSPEC_STORE_UPSTREAM"  # the moto endpoint itself (servers get their part's relay)
KEEP_ENV = "STREAMSPEC_FILES_DIR"


@dataclass
class Downloads:
    tree: FileTree
    relay: StoreRelay | None
    #: why there is no store (its packages are not installed), for the objects cases' "unsupported"
    no_store: str | None = None

    def object_path(self, key: str) -> Path:
        return self.tree.base / "objects" / key


_OWNED: dict = {}  # what this process created: {"pid", "dir", "store"}
_RELAY: dict = {}  # this process's relay: {"pid", "relay"}


def needs(case_ids) -> tuple[bool, bool]:
    """(files, store): whether these cases need the tree, and the store."""
    ids = list(case_ids)
    return any(i.startswith(("files.", "objects.")) for i in ids), any(i.startswith("objects.") for i in ids)


def ensure(files: bool, store: bool, relay: bool = True) -> Downloads | None:
    """The run's tree (and store), created here unless this process inherited them; with ``relay`` this
    process's relay to the store, and the server environment pointing at it."""
    if not files:
        return None
    missing = [m for m in ("moto", "aiobotocore") if importlib.util.find_spec(m) is None]
    no_store = f"{', '.join(missing)} not installed: pip install -e '.[objects]'" if missing and store else None
    store = store and not missing
    root = os.environ.get(FILES_ROOT_ENV)
    tree = FileTree(Path(root).parent) if root and is_tree(Path(root).parent) else None
    moto = None
    if tree is None:
        keep = os.environ.get(KEEP_ENV)
        if keep and is_tree(Path(keep)):
            tree = FileTree(Path(keep))
        else:
            base = Path(tempfile.mkdtemp(prefix="streamspec-files-")) / "tree"
            base.mkdir()
            _own(dir=base.parent)
            if store and not os.environ.get(UPSTREAM_ENV):  # moto starts while the tree is written
                moto = MotoStore(base).start()
                _own(store=moto)
            tree = build_tree(base)
        os.environ[FILES_ROOT_ENV] = str(tree.root)
    if store and not os.environ.get(UPSTREAM_ENV):
        if moto is None:
            moto = MotoStore(tree.base).start()
            _own(store=moto)
        os.environ[UPSTREAM_ENV] = moto.ready().endpoint
    result = Downloads(tree, None, no_store)
    if store and relay:
        if _RELAY.get("pid") != os.getpid():
            port = int(os.environ[UPSTREAM_ENV].rsplit(":", 1)[1])
            _RELAY.update(pid=os.getpid(), relay=StoreRelay(port))
        result.relay = _RELAY["relay"]
        os.environ[S3_ENDPOINT_ENV] = result.relay.endpoint
        os.environ[S3_BUCKET_ENV] = BUCKET
    return result


def _own(**things) -> None:
    if _OWNED.get("pid") != os.getpid():
        _OWNED.clear()
        _OWNED["pid"] = os.getpid()
        atexit.register(cleanup)
    _OWNED.update(things)


def cleanup() -> None:
    """Stop the store and remove the tree, in the process that made them (forks leave with os._exit)."""
    if _OWNED.get("pid") != os.getpid():
        return
    store = _OWNED.pop("store", None)
    if store is not None:
        store.stop()
    folder = _OWNED.pop("dir", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
