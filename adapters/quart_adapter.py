"""Quart declared as an adapter: ``adapters/quart_app.py`` on hypercorn (Quart's own server) or uvicorn (h11).

Declaration only: Quart is not imported here, so listing adapters works without it installed.
"""

from __future__ import annotations

from pathlib import Path

from streamspec.adapter import Adapter, asgi_app_command

ADAPTER = Adapter(
    name="quart",
    description="Quart 0.x: an async generator returned from a view, send_from_directory, on hypercorn/uvicorn",
    command=asgi_app_command("streamspec.adapters.quart_app:app"),
    servers=("hypercorn", "uvicorn"),
    packages=("quart", "werkzeug", "hypercorn"),
    modules=("quart",),
    extra="quart",
    idiom="return async_generator(), 200, headers (the streaming how-to; default RESPONSE_TIMEOUT 60 s and "
          "MAX_CONTENT_LENGTH 16 MiB kept); /sse make_response(...) with response.timeout = None; "
          "send_from_directory(root, name, as_attachment=True); uploads: async for data in request.body under "
          "asyncio.timeout(BODY_TIMEOUT) (the request-body how-to)",
    expectations=Path(__file__).parent / "quart_expectations.toml",
)
