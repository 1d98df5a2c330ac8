"""Second Python environments for the tests that try streamspec as a user would outside this one: the
installed wheel, or another release of one package under the server.

A side environment is a venv without pip, given a few packages with ``pip --python ... --no-deps`` and the
rest of what it needs from existing site directories through one ``.pth`` line each (installing uvicorn,
pytest, locust... again from the index would cost a minute per CI run and test pip, not streamspec)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

#: This environment's site directory: what a side environment borrows its dependencies from.
THIS_SITE = Path(sysconfig.get_paths()["purelib"])


def purelib(python: Path) -> Path:
    """The site directory of the interpreter ``python``."""
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True,
                               timeout=60).stdout.strip())


def side_env(path: Path, packages: list[str], borrow: list[Path], no_index: bool = False) -> Path:
    """A venv at ``path`` with ``packages`` installed without their dependencies and ``borrow`` (site
    directories, in order) on its path after its own. Returns its python. A package the index cannot give
    skips the test, with pip's reason."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=60)
    python = path / "bin" / "python"
    got = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                          *(["--no-index"] if no_index else []), *packages],
                         capture_output=True, text=True, timeout=180)
    if got.returncode != 0:
        pytest.skip(f"{' '.join(packages)} could not be installed: {got.stderr.strip()[-300:]}")
    (purelib(python) / "_streamspec_test_deps.pth").write_text("".join(f"{site}\n" for site in borrow))
    return python


def build_wheel(source: Path, out: Path) -> Path:
    """``pip wheel`` of ``source`` into ``out``, one build at a time across test processes: a build without
    isolation writes ``build/`` and ``*.egg-info`` into the source tree, and two xdist workers building the
    same tree at once corrupt each other's wheel (seen: an installed wheel without ``streamspec``)."""
    import fcntl

    with open(Path(tempfile_dir()) / "streamspec-wheel-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                        str(out), str(source)], check=True, capture_output=True, timeout=120)
    return next(out.glob("*.whl"))


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()
