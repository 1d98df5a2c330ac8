"""The files and objects contract: which fixture files and store objects exist, where a server finds them.

The suite creates and owns the fixture tree and the S3-compatible store; a server learns where they are
from its environment, set by the suite before the server starts:

====================================  ====================================================================
``STREAMSPEC_FILES_ROOT``             the directory ``/file/<name>`` and ``/file-stream/<name>`` serve
``STREAMSPEC_S3_ENDPOINT``            ``http://127.0.0.1:<port>`` of the store (moto in server mode)
``STREAMSPEC_S3_BUCKET``              the bucket ``/object/<key>`` reads from
====================================  ====================================================================

Credentials and region are fixed (``S3_CREDENTIALS``): the store is a local moto server.

Endpoints every adapter serves (GET and HEAD; ``?id=`` may be appended and is ignored by the file logic):

* ``/file/<name>``: the framework's *native* file response over the root, asked to send the file as an
  attachment under its own name (``Content-Disposition``), the way the framework's docs teach;
* ``/file-stream/<name>``: the hand-written streamed download the framework's docs (or the seed) show:
  open the file, send ``Content-Length`` and ``Content-Disposition``, write chunks of ``CHUNK_SIZE``;
* ``/object/<key>``: the object read through aiobotocore's ``get_object`` and streamed to the client,
  the request's ``Range`` passed to the store and the store's status, ``Content-Range`` and length
  passed back.

``<name>`` is the percent-encoded file name (one path segment). Everything about a name beyond that
(decoding, traversal, symlinks) is the framework's and the adapter's to get right: the cases check it.

The bytes of every file are random (``os.urandom``) and the suite's cases read the expected bytes back
from the files themselves, never from code shared with a server: a server cannot pass by sharing a bug.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

FILES_ROOT_ENV = "STREAMSPEC_FILES_ROOT"
S3_ENDPOINT_ENV = "STREAMSPEC_S3_ENDPOINT"
S3_BUCKET_ENV = "STREAMSPEC_S3_BUCKET"
S3_CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "streamspec",
                  "aws_secret_access_key": "streamspec"}
BUCKET = "streamspec"
#: the chunk size of the seed's ``AiofileFileResponse(path, chunk_size=4096)``; files either side of it
CHUNK_SIZE = 4096
MIB = 1024 * 1024


@dataclass(frozen=True)
class Fixture:
    name: str
    size: int
    #: the media type a file server derives from the name (``mimetypes``): what "sensible" means
    media_type: str = "application/octet-stream"


#: The files under the root. The 256 MiB one is the load case's: written once per session.
FILES = (
    Fixture("empty.bin", 0),
    Fixture("one.bin", 1),
    Fixture("c4095.bin", CHUNK_SIZE - 1),
    Fixture("c4096.bin", CHUNK_SIZE),
    Fixture("c4097.bin", CHUNK_SIZE + 1),
    Fixture("k64.bin", 64 * 1024),
    Fixture("notes.txt", 3000, "text/plain"),
    Fixture("m10.bin", 10 * MIB),
    Fixture("m256.bin", 256 * MIB),
    Fixture("résumé naïve 名前.bin", 5000),
    Fixture('semi; "quoted" name.bin', 6000),
)
BY_NAME = {f.name: f for f in FILES}
#: A symlink inside the root that points at ``SECRET`` outside it: serving it is a traversal.
ESCAPE_LINK = "escape.bin"
#: ``<base>/outside/secret.bin``: the file no request may read (random bytes, recognisable if leaked).
SECRET = "secret.bin"
SECRET_SIZE = 8192

#: Objects in the bucket (key -> size): the same sizes as the small files, and a 32 MiB one that stays
#: mid-object long enough for abort and store-failure cases.
OBJECTS = {"empty.bin": 0, "one.bin": 1, "c4097.bin": CHUNK_SIZE + 1, "k64.bin": 64 * 1024,
           "m32.bin": 32 * MIB}


@dataclass(frozen=True)
class FileTree:
    """A fixture tree on disk: ``base/root`` is served, ``base/outside`` must never be."""

    base: Path

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def outside(self) -> Path:
        return self.base / "outside"

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def secret(self) -> Path:
        return self.outside / SECRET


def write_random(path: Path, size: int, block: int = 4 * MIB) -> None:
    """``size`` unpredictable bytes, no block repeating another (a range served from the wrong offset
    never matches by chance). AES-CTR under a fresh random key when ``cryptography`` is there (moto
    depends on it): about 1.5 GB/s here against ``os.urandom``'s 0.33 GB/s, which made writing the
    tree's 270 MiB most of a run's start-up."""
    keystream = _keystream()
    with open(path, "wb") as out:
        left = size
        while left:
            n = min(block, left)
            out.write(keystream(n))
            left -= n


def _keystream():
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError:
        return os.urandom
    encryptor = Cipher(algorithms.AES(os.urandom(32)), modes.CTR(os.urandom(16))).encryptor()
    return lambda n: encryptor.update(bytes(n))


def build_tree(base: Path) -> FileTree:
    """Create the fixture tree under ``base`` (its ``root`` and ``outside`` must not exist yet); about half
    a second, most of it the 256 MiB file."""
    tree = FileTree(base)
    tree.root.mkdir(parents=True)
    tree.outside.mkdir()
    for fixture in FILES:
        write_random(tree.path(fixture.name), fixture.size)
    write_random(tree.secret, SECRET_SIZE)
    os.symlink(os.path.join("..", "outside", SECRET), tree.path(ESCAPE_LINK))
    return tree


def is_tree(base: Path) -> bool:
    """True when ``base`` holds a complete fixture tree (sizes checked, not contents)."""
    tree = FileTree(base)
    try:
        return all(tree.path(f.name).stat().st_size == f.size for f in FILES) \
            and tree.secret.stat().st_size == SECRET_SIZE and tree.path(ESCAPE_LINK).is_symlink()
    except OSError:
        return False


def served_root() -> Path | None:
    """The root a server serves (from its environment), or None when the suite set none."""
    value = os.environ.get(FILES_ROOT_ENV)
    return Path(value) if value else None


def store_config() -> dict | None:
    """``create_client("s3", **store_config())`` arguments for the server's store, or None."""
    endpoint = os.environ.get(S3_ENDPOINT_ENV)
    if not endpoint:
        return None
    return {"endpoint_url": endpoint, **S3_CREDENTIALS}


def bucket() -> str:
    return os.environ.get(S3_BUCKET_ENV, BUCKET)
