"""One set of modules under two names in a checkout.

Installed, the suite lives only under ``streamspec.`` (``streamspec.conformance``, ``streamspec.reference``,
``streamspec.adapters``: pyproject maps the repository's folders there). In a checkout the same folders
are also importable by their own names, because ``pytest conformance`` and ``python -m conformance.matrix``
put the repository on ``sys.path``. Imported twice, a module would exist twice (two ``PreconditionNotMet``
classes, two plugins), so each folder's ``__init__`` calls ``alias`` when it is imported by its short
name: from then on ``conformance.X`` *is* the module ``streamspec.conformance.X``, same object, same file.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, real: str) -> None:
        self.real = real

    def create_module(self, spec):
        return importlib.import_module(self.real)

    def exec_module(self, module) -> None:
        pass  # already executed under its real name

    def get_code(self, fullname):  # ``python -m reference``: runpy runs the real module's code as __main__
        spec = importlib.util.find_spec(self.real)
        return importlib.machinery.SourceFileLoader(self.real, spec.origin).get_code(self.real)

    def is_package(self, fullname) -> bool:
        return importlib.util.find_spec(self.real).submodule_search_locations is not None


class _AliasFinder(importlib.abc.MetaPathFinder):
    def __init__(self, short: str, real: str) -> None:
        self.short, self.real = short, real

    def find_spec(self, fullname, path=None, target=None):
        if not fullname.startswith(self.short + "."):
            return None
        real = self.real + fullname[len(self.short):]
        real_spec = importlib.util.find_spec(real)
        if real_spec is None:
            return None
        # The real file as origin: ``python -m conformance.bench`` runs it as __main__, and runpy gives
        # __main__ a ``__file__`` only from a spec that has a location (without one, module code that
        # finds the repository from ``__file__`` failed).
        spec = importlib.util.spec_from_loader(fullname, _AliasLoader(real), origin=real_spec.origin)
        spec.has_location = real_spec.has_location
        return spec


def alias(short: str) -> None:
    """Make the package imported as ``short`` (and every module under it) the ``streamspec.<short>`` one."""
    real = f"streamspec.{short}"
    if not any(isinstance(f, _AliasFinder) and f.short == short for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder(short, real))
    sys.modules[short] = importlib.import_module(real)
