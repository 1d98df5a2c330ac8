"""Falcon (ASGI) declared as an adapter: ``adapters/falcon_app.py`` on uvicorn (h11), hypercorn or granian.

Declaration only: Falcon is not imported here, so listing adapters works without it installed.
"""

from __future__ import annotations

from pathlib import Path

from streamspec.adapter import Adapter, asgi_app_command

ADAPTER = Adapter(
    name="falcon",
    description="Falcon 4.x falcon.asgi.App: resp.stream, resp.sse, the FAQ's file download, on "
                "uvicorn/hypercorn/granian",
    command=asgi_app_command("streamspec.adapters.falcon_app:app"),
    servers=("uvicorn", "hypercorn", "granian"),
    packages=("falcon",),
    modules=("falcon",),
    extra="falcon",
    idiom="resp.stream = async generator (resp.content_length when declared); resp.sse = generator of SSEvent; "
          "files: resp.stream = aiofiles.open(...) with resp.downloadable_as (the FAQ); uploads: async for chunk "
          "in req.stream",
    expectations=Path(__file__).parent / "falcon_expectations.toml",
)
