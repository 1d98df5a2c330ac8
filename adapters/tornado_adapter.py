"""Tornado declared as an adapter: ``adapters/tornado_app.py`` on Tornado's own HTTP server.

Declaration only: Tornado is not imported here, so listing adapters works without it installed.
"""

from __future__ import annotations

from pathlib import Path

from streamspec.adapter import Adapter, LaunchOptions
from streamspec.adapter import python_module_command


def _command(options: LaunchOptions) -> list[str]:
    """``python -m streamspec.adapters.tornado_app --host H --port P --server tornado``."""
    return [*python_module_command("streamspec.adapters.tornado_app")(options), "--server", options.server]


ADAPTER = Adapter(
    name="tornado",
    description="Tornado 6.x RequestHandler: write() + await flush() per chunk, StaticFileHandler, "
                "@stream_request_body, on Tornado's own server",
    command=_command,
    servers=("tornado",),
    packages=("tornado",),
    modules=("tornado",),
    extra="tornado",
    idiom="self.write(chunk); await self.flush() in an async get(); on_connection_close cancels what the handler "
          "waits on; StaticFileHandler (set_extra_headers for the attachment); uploads: @stream_request_body "
          "data_received",
    expectations=Path(__file__).parent / "tornado_expectations.toml",
)
