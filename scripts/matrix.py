"""Render reports/MATRIX.md from given results files (``python -m conformance.matrix`` runs and renders all).

    python scripts/matrix.py reports/results/*.json > reports/MATRIX.md
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from conformance.matrix_table import load, render  # noqa: E402


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python scripts/matrix.py RESULTS.json ... > reports/MATRIX.md", file=sys.stderr)
        return 2
    sys.stdout.write(render(load(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
