"""``python -m streamspec ...``: the ``streamspec`` command without its console script."""

import sys

from .cli import main

sys.exit(main())
