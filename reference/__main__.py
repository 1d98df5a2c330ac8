"""``python -m reference --server {uvicorn,hypercorn,granian} --port N``: serve the reference app.

``--app module:attr`` serves another ASGI app instead (tests/ serve broken variants this way);
``--uvicorn-http httptools`` picks uvicorn's other HTTP protocol (see streamspec/asgi_servers.py).
"""

from __future__ import annotations

import sys

from streamspec.asgi_servers import main

if __name__ == "__main__":
    sys.exit(main(default_app="streamspec.reference.app:app", prog="python -m streamspec.reference"))
