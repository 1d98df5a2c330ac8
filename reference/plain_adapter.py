"""The plain ASGI streaming idiom (``reference/plain.py``) declared as an adapter: the reference's
contract without its disconnect watcher or per-chunk yield, to show what each ASGI server gives the
idiom its users write."""

from dataclasses import replace
from pathlib import Path

from streamspec.adapter import Adapter, LaunchOptions
from streamspec.asgi_servers import SERVERS

from .adapter import command as reference_command


def _command(options: LaunchOptions) -> list[str]:
    """The reference's server command, serving the plain app."""
    return reference_command(replace(options, app="streamspec.reference.plain:app"))


ADAPTER = Adapter(
    name="asgi-plain",
    description="plain ASGI app (no disconnect watcher, no yield per chunk) under uvicorn (h11), hypercorn, granian",
    command=_command,
    servers=SERVERS,
    packages=("h11",),
    modules=("uvicorn",),
    idiom="plain ASGI: send(start); async for chunk: await send(body, more_body=True); send(final body); "
          "no receive() watcher, no yield, errors propagate",
    expectations=Path(__file__).parent / "plain_expectations.toml",
)
