"""The aiohttp adapter declared as data (aiohttp is not imported here, so listing adapters works
without it installed). The app is ``adapters/aiohttp_app.py``, run by aiohttp's own ``web.run_app``."""

from pathlib import Path

from streamspec.adapter import Adapter, python_module_command

ADAPTER = Adapter(
    name="aiohttp",
    description="aiohttp web.StreamResponse under web.run_app (aiohttp-sse for /sse, web.FileResponse for /file)",
    command=python_module_command("streamspec.adapters.aiohttp_app"),
    servers=("aiohttp",),
    packages=("aiohttp", "aiohttp-sse"),
    modules=("aiohttp", "aiohttp_sse"),
    extra="aiohttp",
    idiom=("web.StreamResponse: prepare() / write() per chunk / write_eof(); aiohttp-sse sse_response for /sse; "
           "web.FileResponse(path, headers={Content-Disposition}) for /file; StreamResponse + aiofiles for "
           "/file-stream; aiobotocore get_object(Range=) body under async with for /object; "
           "request.content.iter_any() for /upload; StreamResponse prepared first + write() per "
           "iter_any() piece for /echo"),
    expectations=Path(__file__).parent / "aiohttp_expectations.toml",
    lacks={},
)
