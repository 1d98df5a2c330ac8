"""BlackSheep declared as an adapter: ``adapters/blacksheep_app.py`` on uvicorn (h11), hypercorn or granian.

Declaration only: BlackSheep is not imported here, so listing adapters works without it installed.
"""

from __future__ import annotations

from pathlib import Path

from streamspec.adapter import Adapter, asgi_app_command

ADAPTER = Adapter(
    name="blacksheep",
    description="BlackSheep 2.x StreamedContent / ServerSentEventsResponse / file(), on uvicorn/hypercorn/granian",
    command=asgi_app_command("streamspec.adapters.blacksheep_app:app"),
    servers=("uvicorn", "hypercorn", "granian"),
    packages=("blacksheep",),
    modules=("blacksheep",),
    extra="blacksheep",
    idiom="Response(200, content=StreamedContent(content_type, async generator function, length)); "
          "ServerSentEventsResponse of TextServerSentEvent; file(path, content_type, file_name=name); uploads: "
          "async for chunk in request.stream()",
    expectations=Path(__file__).parent / "blacksheep_expectations.toml",
)
