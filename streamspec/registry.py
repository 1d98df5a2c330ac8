"""Find adapters by name: the built-ins, then the ``streamspec.adapters`` entry-point group.

An entry point names an ``Adapter`` object (or a zero-argument callable returning one)::

    [project.entry-points."streamspec.adapters"]
    myframework = "myframework_streamspec:ADAPTER"

A name with a colon (``--adapter=mypackage.mymodule:ADAPTER``) is an import string, loaded directly: an
adapter that is not installed as a package (the project's own test servers use this).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from .adapter import Adapter

ENTRY_POINT_GROUP = "streamspec.adapters"

BUILTIN = {
    "reference": "streamspec.reference.adapter:ADAPTER",
    "asgi-plain": "streamspec.reference.plain_adapter:ADAPTER",
    "aiohttp": "streamspec.adapters.aiohttp_adapter:ADAPTER",
    "sanic": "streamspec.adapters.sanic_adapter:ADAPTER",
    "socketify": "streamspec.adapters.socketify_adapter:ADAPTER",
    "nexios": "streamspec.adapters.nexios_adapter:ADAPTER",
    "django": "streamspec.adapters.django_adapter:ADAPTER",
    "starlette": "streamspec.adapters.starlette_adapter:ADAPTER",
    "starlette-mw": "streamspec.adapters.starlette_adapter:MW_ADAPTER",
    "fastapi": "streamspec.adapters.fastapi_adapter:ADAPTER",
    "fastapi-mw": "streamspec.adapters.fastapi_adapter:MW_ADAPTER",
    "litestar": "streamspec.adapters.litestar_adapter:ADAPTER",
    "quart": "streamspec.adapters.quart_adapter:ADAPTER",
    "falcon": "streamspec.adapters.falcon_adapter:ADAPTER",
    "tornado": "streamspec.adapters.tornado_adapter:ADAPTER",
    "blacksheep": "streamspec.adapters.blacksheep_adapter:ADAPTER",
}

#: Not a server we start: ``--adapter=external --base-url=...`` targets a running deployment.
EXTERNAL = "external"


class UnknownAdapter(LookupError):
    pass


def _load(target: str) -> Adapter:
    module_name, _, attr = target.partition(":")
    obj = getattr(importlib.import_module(module_name), attr)
    adapter = obj() if callable(obj) and not isinstance(obj, Adapter) else obj
    if not isinstance(adapter, Adapter):
        raise TypeError(f"{target} is not a streamspec Adapter")
    return adapter


def _entry_points() -> dict[str, str]:
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> dict[str, str]:
    """Every adapter name with where it comes from (built-ins win over a same-named entry point)."""
    found = {name: target for name, target in _entry_points().items()}
    found.update(BUILTIN)
    return found


def names() -> list[str]:
    built = [n for n in BUILTIN if _importable(BUILTIN[n])]
    return built + sorted(n for n in _entry_points() if n not in BUILTIN) + [EXTERNAL]


def _importable(target: str) -> bool:
    return importlib.util.find_spec(target.partition(":")[0]) is not None


def get(name: str) -> Adapter:
    if ":" in name:
        try:
            return _load(name)
        except (ImportError, AttributeError, TypeError) as exc:
            raise UnknownAdapter(f"adapter {name!r} cannot be loaded: {exc}") from None
    targets = available()
    if name not in targets or not _importable(targets[name]):
        raise UnknownAdapter(f"unknown adapter {name!r}; valid adapters: {', '.join(names())}")
    return _load(targets[name])
