"""Litestar declared as an adapter: ``adapters/litestar_app.py`` on uvicorn (h11), hypercorn or granian.

Declaration only: Litestar is not imported here, so listing adapters works without it installed.
"""

from __future__ import annotations

from pathlib import Path

from streamspec.adapter import Adapter, asgi_app_command

ADAPTER = Adapter(
    name="litestar",
    description="Litestar 2.x Stream / ServerSentEvent / File response containers, on uvicorn/hypercorn/granian",
    command=asgi_app_command("streamspec.adapters.litestar_app:app"),
    servers=("uvicorn", "hypercorn", "granian"),
    packages=("litestar", "anyio"),
    modules=("litestar",),
    extra="litestar",
    idiom="return Stream(async generator) from a @get handler; ServerSentEvent(generator of ServerSentEventMessage); "
          "File(path, filename=name); uploads: async for chunk in request.stream(); no @head handlers (Litestar's "
          "default)",
    expectations=Path(__file__).parent / "litestar_expectations.toml",
)
