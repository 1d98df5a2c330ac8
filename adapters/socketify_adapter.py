"""The socketify.py adapter declared as data (socketify is not imported here, so listing adapters works
without it installed). The app is ``adapters/socketify_app.py``, run by socketify's own
``app.listen(AppListenOptions(...))`` + ``app.run()`` in one process."""

from pathlib import Path

from streamspec.adapter import Adapter, python_module_command

ADAPTER = Adapter(
    name="socketify",
    description="socketify.py native API (uWebSockets): async route handlers, App.listen + App.run; "
                "sendfile for /file, aiofiles + send_chunk for /file-stream, aiobotocore for /object",
    command=python_module_command("streamspec.adapters.socketify_app"),
    servers=("socketify",),
    packages=("socketify",),
    modules=("socketify",),
    extra="socketify",
    idiom=("native AppResponse: write_header, then res.send_chunk(chunk, total) per chunk when the length "
           "is declared, else res.write(chunk) per chunk + res.end(b''); res.aborted checked between chunks; "
           "files: write_header('Content-Disposition', 'attachment; filename=\"...\"') + await sendfile(res, req, "
           "path) (native), the docs' aiofiles + send_chunk loop (streamed); objects: aiobotocore client opened "
           "in app.on_start, get_object(Range=) body streamed with send_chunk under async with; uploads: "
           "res.on_data((res, chunk, is_end)) settling a res.app.loop.create_future() (the docs' get_data "
           "pattern), res.on_aborted for the client leaving, res.pause()/res.resume() for consume_delay; /echo "
           "writes res.write(piece) from inside on_data and res.end(b'') at is_end"),
    expectations=Path(__file__).parent / "socketify_expectations.toml",
    lacks={"http-errors": "socketify.py has no HTTP error type for handlers to raise (its docs answer a "
                          "status with res.write_status(...).end(...))"},
)
