"""The ``streamspec`` command. Subcommands:

``streamspec run [pytest options]``: the conformance suite (``pytest <installed cases> ...``), e.g.
``streamspec run --adapter=sanic``; results go to ``--results`` or, installed, ``./streamspec-results/``.

``streamspec load [locust options]``: the locust load suite (``locust -f <installed loadtests> ...``).

``streamspec compare BASE.json CANDIDATE.json``: new failures, fixes, newly unsupported cases and figures
that moved, between two results files (``streamspec/compare.py``); exit status 1 on a regression, 2 on
bad input. Also ``python -m streamspec compare ...``.

``streamspec expectations --from RESULTS.json``: add the run's failures to the adapter's expectations file
and drop entries the run shows fixed (``streamspec/expectations_update.py``), after a person has decided
those failures are accepted; ``--dry-run`` prints the file instead of writing it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import compare as comparing
from . import expectations_update


def _load(path: str) -> dict:
    try:
        doc = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SystemExit(f"streamspec: no such results file: {path}")
    except (OSError, ValueError) as exc:
        raise SystemExit(f"streamspec: {path} is not a readable results file: {exc}")
    if not isinstance(doc, dict) or not str(doc.get("schema", "")).startswith("streamspec.results/"):
        raise SystemExit(f"streamspec: {path} is not a streamspec results file (no 'schema': 'streamspec.results/N')")
    return doc


def _compare(args) -> int:
    result = comparing.compare(_load(args.base), _load(args.candidate), tolerance=args.tolerance,
                               fail_on_figures=args.fail_on_figures)
    print(comparing.render(result))
    return 1 if result.regressed else 0


def _expectations(args) -> int:
    doc = _load(getattr(args, "from"))
    if args.file:
        path = Path(args.file)
    else:
        from . import registry
        try:
            path = registry.get(doc.get("adapter", "")).expectations
        except registry.UnknownAdapter as exc:  # an adapter this installation does not know
            raise SystemExit(f"streamspec: the results are of adapter {doc.get('adapter')!r}, which is not "
                             f"installed here ({exc}); name the file with --file")
        if path is None:
            raise SystemExit(f"streamspec: adapter {doc.get('adapter')!r} names no expectations file; use --file")
    text = path.read_text() if path.exists() else ""
    try:
        result = expectations_update.update(text, doc, pin_version=args.pin_version)
    except ValueError as exc:
        raise SystemExit(f"streamspec: {path}: {exc}")
    if args.dry_run:
        print(result.text, end="")
        print(result.summary(), file=sys.stderr)
        return 0
    if result.text != text:
        path.write_text(result.text)
    print(f"{path}: {result.summary()}")
    return 0


#: pytest options the checkout's pyproject.toml sets, which an installed run has no ini file for: no
#: cache directory next to the installed cases (site-packages is never written), and the plugins that
#: locust and anyio install for every pytest kept out of the suite's runs.
RUN_DEFAULTS = ["-p", "no:cacheprovider", "-p", "no:locust", "-p", "no:anyio", "-W", "ignore::DeprecationWarning"]


def run(argv: list[str]) -> int:
    """``streamspec run ARGS``: ``pytest <the conformance package> ARGS``, in this process."""
    import pytest

    from . import conformance
    return int(pytest.main([*RUN_DEFAULTS, str(Path(conformance.__file__).parent), *argv]))


def load(argv: list[str]) -> int:
    """``streamspec load ARGS``: ``locust -f <the loadtests folder> ARGS`` (locust needs ``.[load]``)."""
    import importlib.util
    import os

    if importlib.util.find_spec("locust") is None:
        print("streamspec: locust is not installed: pip install 'streamspec[load]'", file=sys.stderr)
        return 4
    from . import loadtests
    folder = str(Path(loadtests.__file__).parent)
    os.execvp(sys.executable, [sys.executable, "-m", "locust", "-f", folder, *argv])
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="streamspec", description="HTTP streaming conformance: tools over results files")
    sub = parser.add_subparsers(dest="command", required=True)
    cmp = sub.add_parser("compare", help="compare two results files; exit 1 on a regression")
    cmp.add_argument("base", help="results file of the version in use (e.g. reports/results/sanic-sanic.json)")
    cmp.add_argument("candidate", help="results file of the version to upgrade to")
    cmp.add_argument("--tolerance", type=float, default=0.5,
                     help="relative move of a figure that is reported (default 0.5: 50%% worse or better)")
    cmp.add_argument("--fail-on-figures", action="store_true",
                     help="a figure worse beyond the tolerance is a regression too (default: reported only)")
    exp = sub.add_parser("expectations", help="update an expectations file from a results file")
    exp.add_argument("--from", required=True, metavar="RESULTS.json", help="the run whose failures are accepted")
    exp.add_argument("--file", default=None, help="the expectations file (default: the adapter's own)")
    exp.add_argument("--pin-version", action="store_true",
                     help="new entries apply only to the framework version of the run (versions = [\"fw==X\"])")
    exp.add_argument("--dry-run", action="store_true", help="print the updated file instead of writing it")
    sub.add_parser("run", help="run the conformance suite: streamspec run --adapter=NAME [pytest options]",
                   add_help=False)
    sub.add_parser("load", help="run the load suite: streamspec load --profile NAME --headless [locust options]",
                   add_help=False)
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("run", "load"):  # everything after the word is pytest's or locust's
        return (run if argv[0] == "run" else load)(argv[1:])
    args = parser.parse_args(argv)
    try:
        return {"compare": _compare, "expectations": _expectations}[args.command](args)
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
