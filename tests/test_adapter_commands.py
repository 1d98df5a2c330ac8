"""The two command helpers an adapter declares its server with: what argv each builds."""

from streamspec.adapter import LaunchOptions, asgi_app_command, python_module_command


def test_python_module_command_passes_its_arguments_and_the_runs():
    argv = python_module_command("pkg.serve", "--quirk", "x")(
        LaunchOptions("127.0.0.1", 8001, "default", extra_args=("--flag",), python="/py"))
    assert argv == ["/py", "-m", "pkg.serve", "--host", "127.0.0.1", "--port", "8001", "--quirk", "x", "--flag"]


def test_asgi_app_command_passes_the_server_the_run_chose():
    argv = asgi_app_command("pkg.app:app", uvicorn_http="httptools")(
        LaunchOptions("127.0.0.1", 8002, "granian", python="/py"))
    assert argv == ["/py", "-m", "streamspec.asgi_servers", "--server", "granian", "--app", "pkg.app:app",
                    "--uvicorn-http", "httptools", "--host", "127.0.0.1", "--port", "8002"]
