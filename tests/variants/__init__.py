"""Deliberately broken variants of the reference server: the proof that each case can fail.

Each module here is one variant and declares:

* ``app``: the broken ASGI app (served with ``python -m reference --app tests.variants.<name>:app``);
* ``CAUGHT_BY``: the exact set of case ids that must fail against it (``tests/test_teeth.py`` asserts
  equality, so a case that starts failing by accident is noticed too);
* ``SERVER_ARGS`` (optional): extra arguments for ``python -m reference``;
* ``SELECT`` (optional): a case-id glob (``--case``) limiting the run to the families it concerns.

Modules whose name starts with ``_`` are shared code, not variants.
"""

import pkgutil


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
