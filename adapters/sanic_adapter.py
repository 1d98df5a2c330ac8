"""Sanic declared as a streamspec adapter (data only: Sanic is not imported here, so listing
adapters works without it installed). The app itself is ``adapters/sanic_app.py``."""

from pathlib import Path

from streamspec.adapter import Adapter, python_module_command

ADAPTER = Adapter(
    name="sanic",
    description="Sanic app on Sanic's own HTTP/1 server, one process (app.run(single_process=True))",
    command=python_module_command("streamspec.adapters.sanic_app"),
    servers=("sanic",),
    packages=("sanic",),
    modules=("sanic",),
    extra="sanic",
    idiom="response = await request.respond(...); await response.send(chunk) per chunk; await response.eof(); "
          "files: sanic.response.file_stream(filename=...) (native) and aiofiles + request.respond (streamed); "
          "objects: aiobotocore client on app.ctx, body sent with response.send; "
          "uploads: route stream=True + await request.stream.read() until None; echo: request.respond() first, "
          "response.send() per piece read",
    expectations=Path(__file__).parent / "sanic_expectations.toml",
    lacks={},
)
