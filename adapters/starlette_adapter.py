"""Starlette declared as adapters: ``adapters/starlette_app.py`` as it is (``starlette``) and behind a
pass-through ``BaseHTTPMiddleware`` (``starlette-mw``), on uvicorn (h11), hypercorn or granian.

Declaration only: Starlette is not imported here, so listing adapters works without it installed.
"""

from __future__ import annotations

from pathlib import Path

from streamspec.adapter import Adapter, asgi_app_command

_IDIOM = ("StreamingResponse(async generator) returned from an endpoint; sse-starlette EventSourceResponse of "
          "ServerSentEvent items (its own ping); FileResponse(path, filename=name); the hand-written download a "
          "StreamingResponse over aiofiles; uploads: async for chunk in request.stream()")

ADAPTER = Adapter(
    name="starlette",
    description="Starlette 1.x StreamingResponse / FileResponse, sse-starlette for /sse, on uvicorn/hypercorn/granian",
    command=asgi_app_command("streamspec.adapters.starlette_app:app"),
    servers=("uvicorn", "hypercorn", "granian"),
    packages=("starlette", "sse-starlette", "anyio"),
    modules=("starlette", "sse_starlette"),
    extra="starlette",
    idiom=_IDIOM,
    expectations=Path(__file__).parent / "starlette_expectations.toml",
)

MW_ADAPTER = Adapter(
    name="starlette-mw",
    description="the starlette adapter behind one pass-through BaseHTTPMiddleware",
    command=asgi_app_command("streamspec.adapters.starlette_app:app_mw"),
    servers=("uvicorn", "hypercorn", "granian"),
    packages=("starlette", "sse-starlette", "anyio"),
    modules=("starlette", "sse_starlette"),
    extra="starlette",
    idiom=_IDIOM + "; every request through a BaseHTTPMiddleware whose dispatch returns await call_next(request)",
    expectations=Path(__file__).parent / "starlette_mw_expectations.toml",
)
