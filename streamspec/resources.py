"""What the server process holds right now, seen from inside it: open fixture files, store connections.

A native file response (aiohttp's ``FileResponse``, Django's ``FileResponse``, Sanic's ``file_stream``)
opens and closes its file inside the framework, where no adapter code runs; an aiobotocore body holds a
pooled connection inside aiohttp. Whether they were released after an abort cannot be seen from the
client, and wrapping them would test our wrapper. So the probe looks at the process itself:

* ``open_files()``: this process's descriptors (``/proc/self/fd``) that point into the fixture tree;
* ``opened()``: every path inside the fixture tree this process asked to open (the ``open`` audit event,
  PEP 578, raised by ``open()``, ``os.open()`` and so by aiofiles and every framework written in Python),
  counted per path: a traversal that opened a file outside the root shows here even if no byte left;
* ``store_connections()``: this process's TCP connections to the store's port (``/proc/net/tcp`` joined
  with the socket inodes of ``/proc/self/fd``), with their receive queues: a body abandoned mid-object
  keeps a connection whose unread bytes wait in the kernel.

Linux only (``/proc``); elsewhere the views are empty and the cases that need them say so.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from .files import FILES_ROOT_ENV, S3_ENDPOINT_ENV

_BASE: str | None = None  # the fixture tree's base (the parent of the served root), resolved
_OPENED: Counter = Counter()
MAX_OPENED_PATHS = 512  # distinct paths remembered (a hostile request must not grow this without bound)


def _audit(event: str, args) -> None:
    if event != "open" or _BASE is None:
        return
    path = args[0]
    if isinstance(path, int) or path is None:
        return
    try:
        text = os.fsdecode(path)
        full = os.path.realpath(text)
    except (TypeError, ValueError, OSError):
        return
    if full.startswith(_BASE + os.sep) and (full in _OPENED or len(_OPENED) < MAX_OPENED_PATHS):
        _OPENED[os.path.relpath(full, _BASE)] += 1


def install() -> None:
    """Start watching opens (once per process; a no-op when the suite set no fixture root)."""
    global _BASE
    root = os.environ.get(FILES_ROOT_ENV)
    if _BASE is not None or not root:
        return
    _BASE = os.path.realpath(os.path.dirname(os.path.abspath(root)))
    sys.addaudithook(_audit)


def opened() -> dict[str, int]:
    """Opens per path relative to the tree's base (``root/m10.bin``, ``outside/secret.bin``)."""
    return dict(_OPENED)


def open_files() -> list[str]:
    """Descriptors of this process that point into the fixture tree, as paths relative to its base."""
    if _BASE is None:
        return []
    out = []
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return []
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(_BASE + os.sep):
            out.append(os.path.relpath(target, _BASE))
    return sorted(out)


def _socket_inodes() -> set[str]:
    inodes = set()
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def store_connections() -> list[dict]:
    """This process's TCP connections to the store's port: ``{"state", "rx", "tx"}`` each (queues in
    bytes; state as in ``/proc/net/tcp``: 01 established, 08 close-wait...)."""
    endpoint = os.environ.get(S3_ENDPOINT_ENV)
    if not endpoint:
        return []
    port = urlsplit(endpoint).port
    inodes = _socket_inodes()
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port != port or fields[9] not in inodes:
                continue
            tx, rx = (int(x, 16) for x in fields[4].split(":"))
            out.append({"state": fields[3], "rx": rx, "tx": tx})
    return out


def snapshot() -> dict:
    return {"open": open_files(), "opened": opened(), "store": store_connections()}
