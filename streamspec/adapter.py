"""What an adapter is: the data the suite needs to start, identify and judge one framework's server.

An adapter is declared as data (no framework import at declaration time, so listing adapters never
needs every framework installed). Built-in adapters live in ``reference/`` and ``adapters/``; a third
party publishes one through the ``streamspec.adapters`` entry-point group (see README).
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable, Mapping, Sequence

#: Capabilities a case may require. An adapter lists what it genuinely lacks, with a reason; a case
#: needing a lacked capability is reported "unsupported", never "failed" (and never "passed").
CAPABILITIES = {
    "local-process": "the server runs here as a process the suite started (descriptors, pid)",
    "sse": "serves the /sse endpoint of the contract",
    "files": "serves /file/<name> and /file-stream/<name> of the files contract (streamspec.files)",
    "objects": "serves /object/<key> from the S3-compatible store through aiobotocore (streamspec.files)",
    "uploads": "serves POST|PUT /upload of the uploads contract, reading the request body as it arrives "
               "(streamspec.uploads)",
    "echo": "serves POST /echo, answering while the request body is still arriving (streamspec.uploads)",
    "http-errors": "the framework has an HTTP error type that a handler raises to answer with its status "
                   "(the contract's raise_as=http)",
}


@dataclass(frozen=True)
class LaunchOptions:
    """Where and how to start one server process."""

    host: str
    port: int
    server: str
    app: str | None = None  # an alternative app import string (broken variants in tests/)
    extra_args: tuple[str, ...] = ()
    #: the interpreter that runs the server (``--python``): old framework releases need older Pythons, so
    #: an upgrade test can run the server from another virtual environment while the suite stays here
    python: str = sys.executable


@dataclass(frozen=True)
class Adapter:
    """One framework (or the reference) serving the scenario contract.

    ``command`` returns the argv that starts a single-worker server on ``options.host:port``; it runs
    with the repository root as working directory and must serve until SIGTERM. ``packages`` are the
    distributions whose versions go into the results (the framework first); ``modules`` are imported
    (spec only) to tell a missing framework apart, and ``extra`` is the pip extra that installs them.
    """

    name: str
    description: str
    command: Callable[[LaunchOptions], Sequence[str]]
    servers: tuple[str, ...] = ("default",)
    packages: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    extra: str | None = None
    lacks: Mapping[str, str] = field(default_factory=dict)
    idiom: str = ""  # one line: which of the framework's streaming APIs the adapter uses
    expectations: Path | None = None  # TOML file of known, accepted failures (see conformance/expectations.py)
    accepts_app: bool = False  # True when --app can swap in another ASGI app (the reference only)
    install_hint: str = ""  # how to install what ``modules`` needs; built-ins derive it from ``extra``
    #: the interpreter that runs this adapter's server when ``--python`` is not given (None: the suite's
    #: own). An old framework release may need an older Python than the suite: point this at that
    #: virtual environment's python; the results record the versions that interpreter reports.
    python: str | None = None

    def __post_init__(self) -> None:
        unknown = set(self.lacks) - set(CAPABILITIES)
        if unknown:
            raise ValueError(f"adapter {self.name}: unknown capabilities in lacks: {sorted(unknown)}; "
                             f"known: {sorted(CAPABILITIES)}")

    @property
    def default_server(self) -> str:
        return self.servers[0]

    @property
    def install_command(self) -> str:
        if self.install_hint:
            return self.install_hint
        return f"pip install -e '.[{self.extra}]'" if self.extra else "install it"

    def missing_modules(self) -> list[str]:
        return [m for m in self.modules if importlib.util.find_spec(m) is None]

    def versions(self, server: str) -> dict[str, str]:
        names = list(self.packages)
        if server not in ("default", *names):
            names.append(server)
        out = {"python": sys.version.split()[0]}
        for name in names:
            try:
                out[name] = version(name)
            except PackageNotFoundError:
                out[name] = "not installed"
        return out

    def lacks_any(self, needed: Sequence[str]) -> str | None:
        """The reason of the first needed capability this adapter lacks, else None."""
        for cap in needed:
            if cap in self.lacks:
                return f"{cap}: {self.lacks[cap]}"
        return None


def python_module_command(module: str, *args: str) -> Callable[[LaunchOptions], list[str]]:
    """A ``command`` that runs ``python -m module --host H --port P [args]`` (the common case)."""

    def command(options: LaunchOptions) -> list[str]:
        return [options.python, "-m", module, "--host", options.host, "--port", str(options.port), *args,
                *options.extra_args]

    return command


def asgi_app_command(app: str, uvicorn_http: str = "h11") -> Callable[[LaunchOptions], list[str]]:
    """A ``command`` that serves the ASGI app ``app`` (``"module:attr"``) under the server the run chose.

    ``python -m streamspec.asgi_servers --server S --app module:attr --host H --port P``: the same runner
    the reference uses, so ``--server`` reaches it (``python_module_command`` passes no server on).
    ``uvicorn_http`` picks uvicorn's protocol (``h11``, or ``httptools`` as ``uvicorn[standard]`` does in
    production); the other servers ignore it. The adapter's ``servers`` should be a subset of
    ``streamspec.asgi_servers.SERVERS``.
    """

    def command(options: LaunchOptions) -> list[str]:
        return [options.python, "-m", "streamspec.asgi_servers", "--server", options.server, "--app", app,
                "--uvicorn-http", uvicorn_http, "--host", options.host, "--port", str(options.port),
                *options.extra_args]

    return command
