"""Nexios declared as an adapter: ``adapters/nexios_app.py`` under uvicorn (httptools), hypercorn or granian.

Declaration only: Nexios is not imported here, so listing adapters works without it installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from streamspec.adapter import Adapter, LaunchOptions


def _command(options: LaunchOptions) -> list[str]:
    """``python -m adapters.nexios_app --server S --host H --port P``: the server choice reaches main()."""
    return [sys.executable, "-m", "streamspec.adapters.nexios_app", "--server", options.server, "--host", options.host,
            "--port", str(options.port), *options.extra_args]


ADAPTER = Adapter(
    name="nexios",
    description="Nexios 3.x NexiosApp, response.stream() and response.file() as its docs teach, on "
                "uvicorn[httptools]/hypercorn/granian",
    command=_command,
    servers=("uvicorn", "hypercorn", "granian"),
    packages=("nexios", "uvicorn", "httptools"),
    modules=("nexios",),
    extra="nexios",
    idiom="return response.stream(agen, content_type=..., headers=...) from an async (request, response) handler; "
          "its StreamingResponse sends one ASGI body message per chunk and watches receive() for disconnect. "
          "Files: response.file(path, content_disposition_type=\"attachment\") (FileResponse), and the streaming "
          "guide's aiofiles generator through response.stream(); objects: get_object(Range=...) in the handler, "
          "the body read under async with in a response.stream() generator; uploads: async for chunk in "
          "req.stream() (the request guide's streaming request data; ClientDisconnect when the client leaves), "
          "/echo a response.stream() generator over req.stream()",
    expectations=Path(__file__).parent / "nexios_expectations.toml",
)
