"""FastAPI declared as adapters: ``adapters/fastapi_app.py`` as it is (``fastapi``) and with one
pass-through ``@app.middleware("http")`` (``fastapi-mw``), on uvicorn (h11), hypercorn or granian.

Declaration only: FastAPI is not imported here, so listing adapters works without it installed.
"""

from __future__ import annotations

from pathlib import Path

from streamspec.adapter import Adapter, asgi_app_command

_IDIOM = ("StreamingResponse(async generator) returned from a path operation; /sse a generator path operation with "
          "response_class=EventSourceResponse yielding fastapi.sse.ServerSentEvent(raw_data=...); FileResponse(path, "
          "filename=name); uploads: async for chunk in request.stream()")

ADAPTER = Adapter(
    name="fastapi",
    description="FastAPI path operations: StreamingResponse, its own EventSourceResponse, FileResponse, on "
                "uvicorn/hypercorn/granian",
    command=asgi_app_command("streamspec.adapters.fastapi_app:app"),
    servers=("uvicorn", "hypercorn", "granian"),
    packages=("fastapi", "starlette", "anyio"),
    modules=("fastapi",),
    extra="fastapi",
    idiom=_IDIOM,
    expectations=Path(__file__).parent / "fastapi_expectations.toml",
)

MW_ADAPTER = Adapter(
    name="fastapi-mw",
    description="the fastapi adapter with one pass-through @app.middleware(\"http\") (BaseHTTPMiddleware)",
    command=asgi_app_command("streamspec.adapters.fastapi_app:app_mw"),
    servers=("uvicorn", "hypercorn", "granian"),
    packages=("fastapi", "starlette", "anyio"),
    modules=("fastapi",),
    extra="fastapi",
    idiom=_IDIOM + "; every request through @app.middleware(\"http\") returning await call_next(request)",
    expectations=Path(__file__).parent / "fastapi_mw_expectations.toml",
)
