"""The reference server declared as an adapter, so the suite starts it like any framework."""

from pathlib import Path

from streamspec.adapter import Adapter, LaunchOptions

from streamspec.asgi_servers import SERVERS


def command(options: LaunchOptions) -> list[str]:
    """``python -m streamspec.reference --server S --host H --port P [--app module:attr]`` (the asgi-plain adapter
    runs its app through this too)."""
    argv = [options.python, "-m", "streamspec.reference", "--server", options.server, "--host", options.host,
            "--port", str(options.port)]
    if options.app:
        argv += ["--app", options.app]
    return argv + list(options.extra_args)


ADAPTER = Adapter(
    name="reference",
    description="pure-ASGI reference server (defines the correct semantics)",
    command=command,
    servers=SERVERS,
    packages=("h11",),
    modules=("uvicorn",),
    idiom="raw ASGI: one http.response.body message per chunk, a task watching receive() for disconnect",
    expectations=Path(__file__).parent / "expectations.toml",
    accepts_app=True,
)
