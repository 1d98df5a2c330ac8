"""Django declared as an adapter: ``adapters/django_app.py`` under uvicorn (default) or daphne.

Declaration only: Django is not imported here, so listing adapters works without it installed.

Django 5.2.x (the LTS): Django 6.0 requires Python >= 3.12 and the suite runs on Python 3.11. The ASGI
application is django-fileresponse's ``get_asgi_application()`` (Django's ``ASGIHandler`` plus the seed's
async file responses), settings in ``adapters/django_settings.py``, no database. Servers, each as
Django's deployment docs run it:

* ``uvicorn``: "How to use Django with Uvicorn" (``python -m pip install uvicorn``, plain uvicorn, so
  its h11 protocol): ``uvicorn adapters.django_app:application --http h11``;
* ``daphne``: "How to use Django with Daphne", ``daphne -b H -p P adapters.django_app:application``.

``python -m adapters.django_adapter --server S --host H --port P`` (``main`` below) runs that server's own
CLI in-process with exactly those arguments.
"""

from __future__ import annotations

from pathlib import Path

from streamspec.adapter import Adapter, LaunchOptions

APP = "streamspec.adapters.django_app:application"
SERVERS = ("uvicorn", "daphne")


def _command(options: LaunchOptions) -> list[str]:
    """``python -m adapters.django_adapter --server S --host H --port P [extra server args]``."""
    return [options.python, "-m", "streamspec.adapters.django_adapter", "--server", options.server, "--host", options.host,
            "--port", str(options.port), *options.extra_args]


def server_argv(server: str, host: str, port: int, extra: list[str]) -> list[str]:
    """The server's own command line, as Django's deployment docs write it (without the program name)."""
    if server == "daphne":
        return ["-b", host, "-p", str(port), *extra, APP]
    # uvicorn's own CLI, not streamspec.asgi_servers: that runner forces lifespan="on" and Django's
    # ASGIHandler refuses the lifespan scope (ValueError), so uvicorn would exit; the CLI's default
    # (lifespan "auto") logs that lifespan is unsupported and serves, as Django's docs run it.
    return [APP, "--http", "h11", "--host", host, "--port", str(port), "--log-level", "warning",
            "--no-access-log", *extra]


def main(argv: list[str] | None = None) -> int:
    """Run the server's own CLI in this process (so the launched pid serves)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m adapters.django_adapter", description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=SERVERS, default=SERVERS[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args, extra = parser.parse_known_args(argv)
    command = server_argv(args.server, args.host, args.port, extra)
    if args.server == "daphne":
        from daphne.cli import CommandLineInterface

        CommandLineInterface().run(command)
    else:
        import uvicorn.main

        uvicorn.main.main(command, prog_name="uvicorn")  # click: exits when the server stops
    return 0


ADAPTER = Adapter(
    name="django",
    description="Django 5.2 async views under ASGI (django-fileresponse's handler) on uvicorn (h11) or daphne",
    command=_command,
    servers=SERVERS,
    packages=("django", "django-fileresponse", "aiobotocore", "uvicorn", "daphne"),
    modules=("django", "fileresponse"),
    extra="django",
    lacks={"http-errors": "Django has no exception that answers with a chosen status: its view exceptions are "
                          "Http404 (404), PermissionDenied (403) and BadRequest/SuspiciousOperation (400); a "
                          "503 is returned as HttpResponse(status=503), never raised",
           "echo": "Django 5.2 cannot answer while the request body arrives: ASGIHandler.handle awaits read_body(), "
                   "which spools every body message into a SpooledTemporaryFile until more_body is false, before "
                   "the request or the view exists (django/core/handlers/asgi.py:174 and 262-275), so a "
                   "StreamingHttpResponse starts only after the whole body"},
    idiom="async view returning StreamingHttpResponse(async_iterator, ...); ASGIHandler sends one body message "
          "per part and cancels the response task on http.disconnect (Django 5.0+). Uploads: a csrf_exempt async "
          "view reading request.read(64 KiB) in a loop (HttpRequest's file-like interface) from the body "
          "ASGIHandler.read_body spooled before the view runs",
    expectations=Path(__file__).parent / "django_expectations.toml",
)


if __name__ == "__main__":
    import sys

    sys.exit(main())
