"""The case catalogue read from the source with ``ast``: every case id, level, source and requirement,
without importing a case module (so listing cases needs no framework and starts no server).

One reader for everything that needs the list: SPEC.md's generated tables (scripts/spec_catalogue.py),
the teeth test, and the sharded runner that splits a run into concurrent parts (conformance/shards.py).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

HERE = Path(__file__).resolve().parent
FRAMINGS = ("chunked", "length")  # as conformance/cases.py (tests/test_spec.py checks they agree)


def cases(directory: Path = HERE) -> list[dict]:
    """Every case, in file order: ``{"id", "level", "source", "requirement", "file", "function"}``; a
    framed case once per framing.

    Parsed once per content of the case files (a run asks for the list once per part, and parsing is
    about 0.05 s each time); the entries are fresh copies, so a caller may change them."""
    stats = [(p, p.stat()) for p in sorted(directory.glob("test_*.py"))]
    stamp = tuple((str(p), st.st_mtime_ns, st.st_size) for p, st in stats)
    return [dict(entry) for entry in _parsed(stamp)]


@functools.lru_cache(maxsize=4)
def _parsed(stamp: tuple[tuple[str, int, int], ...]) -> tuple[dict, ...]:
    found = []
    for path in (Path(name) for name, _, _ in stamp):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "case":
                    args = [ast.literal_eval(a) for a in deco.args]
                    kwargs = {k.arg: ast.literal_eval(k.value) for k in deco.keywords}
                    doc = " ".join((ast.get_docstring(node) or "").split())
                    if kwargs.get("endpoints"):
                        ids = [f"{args[0]}.{e}" for e in kwargs["endpoints"]]
                    elif kwargs.get("framed"):
                        ids = [f"{args[0]}.{f}" for f in FRAMINGS]
                    else:
                        ids = [args[0]]
                    found += [{"id": i, "level": args[1], "source": args[2], "requirement": doc,
                               "file": path.name, "function": node.name} for i in ids]
    return tuple(found)
