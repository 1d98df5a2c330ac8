"""The declaration streamspec reads: data only, so listing adapters never imports Starlette.

``asgi_app_command`` serves the ASGI app under whichever server the run chose (``--server``), through the
same runner as the reference. Files and objects are declared lacked: this example starts with what most
adapters write first, and the cases that need them report ``unsupported`` with this reason, never a pass.
"""

from pathlib import Path

from streamspec.adapter import Adapter, asgi_app_command

ADAPTER = Adapter(
    name="example-starlette",
    description="ADAPTERS.md's worked example: a Starlette app of a third party",
    command=asgi_app_command("streamspec_example.app:app"),
    servers=("uvicorn", "hypercorn", "granian"),
    packages=("starlette", "streamspec-example-adapter"),  # versions recorded in the results
    modules=("starlette",),                                 # missing -> one line naming install_hint
    install_hint="pip install streamspec-example-adapter",
    idiom="StreamingResponse(async generator); /sse the same, items framed by streamspec.sse.encode",
    lacks={"files": "the example serves no downloads (see streamspec's adapters/starlette_app.py)",
           "objects": "the example serves no downloads (see streamspec's adapters/starlette_app.py)"},
    expectations=Path(__file__).parent / "expectations.toml",
)
