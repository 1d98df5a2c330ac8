"""Generate SPEC.md's case catalogue from the code, so the document cannot drift from the suite.

``python scripts/spec_catalogue.py`` prints the tables; ``--write`` replaces the block between the
``<!-- catalogue:start -->`` and ``<!-- catalogue:end -->`` markers in SPEC.md. ``tests/test_spec.py``
fails when SPEC.md differs from what this prints.

Everything is read with ``ast`` (no imports): id, level and source from each ``@case(...)``, the
requirement from the test's docstring, and the broken variants that fail the case from
``tests/variants/*.py`` ``CAUGHT_BY``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from conformance import catalogue  # noqa: E402 - the one reader of the case catalogue
SPEC = ROOT / "SPEC.md"
START, END = "<!-- catalogue:start -->", "<!-- catalogue:end -->"
AREAS = {
    "chunking": "Chunk framing and flush timing",
    "errors": "Mid-stream errors",
    "abort": "Client aborts",
    "backpressure": "Backpressure and slow readers",
    "sse": "Server-Sent Events",
    "files": "File downloads: ranges, conditionals, names, traversal, aborts, memory",
    "objects": "Objects streamed from an S3-compatible store",
    "upload": "Streamed request bodies: uploads, 100-continue, aborted uploads",
    "echo": "Full duplex: an echo answered while the request body arrives",
    "hostile": "Hostile request framing",
}


def cases() -> list[dict]:
    return catalogue.cases(ROOT / "conformance")


def caught_by() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests" / "variants").glob("[!_]*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "CAUGHT_BY":
                value = ast.literal_eval(node.value)
                if value == "*":  # a silent server (black_hole...) fails every case: not listed per row
                    continue
                for case_id in value:
                    out.setdefault(case_id, []).append(path.stem)
    for case_id in (c["id"] for c in cases() if c["id"].startswith("hostile.")):
        out.setdefault(case_id, []).append("lenient_server")  # tests/lenient_server.py fails every one
    return out


def render() -> str:
    variants = caught_by()
    lines = []
    all_cases = cases()
    for prefix, title in AREAS.items():
        rows = [c for c in all_cases if c["id"].split(".")[0] == prefix]
        if not rows:
            continue
        lines += [f"### {title} (`conformance/{rows[0]['file']}`)", "",
                  "| id | level | source | requirement and observation | failed by (tests/variants; `lenient_server`: tests/lenient_server.py) |",
                  "|---|---|---|---|---|"]
        for c in sorted(rows, key=lambda c: c["id"]):
            req = c["requirement"].replace("|", "\\|")
            by = ", ".join(f"`{v}`" for v in sorted(variants.get(c["id"], []))) or "**none**"
            lines.append(f"| `{c['id']}` | {c['level']} | {c['source']} | {req} | {by} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def embedded() -> str:
    text = SPEC.read_text()
    return text[text.index(START) + len(START):text.index(END)].strip("\n") + "\n"


def main() -> int:
    table = render()
    if "--write" in sys.argv:
        text = SPEC.read_text()
        head, tail = text[:text.index(START) + len(START)], text[text.index(END):]
        SPEC.write_text(f"{head}\n{table}{tail}")
    else:
        sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
