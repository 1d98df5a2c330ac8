"""pytest's ``--junitxml`` for a run split into concurrent parts.

Each part is a fork of the runner and would write the whole report to the one ``--junitxml`` path, the
last part overwriting the others: ``part_path`` gives each its own file, ``merge`` joins them into the
path the user asked for, one ``testsuite`` with every case. Each testcase carries ``case_id`` and
``level`` properties (``conformance/plugin.py``), so a CI system shows the suite's ids, not test names.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

COUNTS = ("tests", "errors", "failures", "skipped")


def requested(config) -> str | None:
    """The ``--junitxml`` path the user gave, or None."""
    return getattr(config.option, "xmlpath", None) or None


def point_part_at(config, path: Path) -> None:
    """In a part's process, before its session configures: write its junit report to ``path``."""
    if requested(config):
        config.option.xmlpath = str(path)


def merge(parts: list[Path], out: str, name: str = "streamspec") -> int:
    """Join the parts' reports into ``out``; the number of testcases written."""
    suite = ET.Element("testsuite", name=name)
    totals = dict.fromkeys(COUNTS, 0)
    time_s = 0.0
    for path in parts:
        if not path.exists():
            continue
        for part_suite in ET.parse(path).getroot().iter("testsuite"):
            for key in COUNTS:
                totals[key] += int(part_suite.get(key, "0"))
            time_s = max(time_s, float(part_suite.get("time", "0")))  # the parts ran side by side
            suite.extend(part_suite.findall("testcase"))
    for key, value in totals.items():
        suite.set(key, str(value))
    suite.set("time", f"{time_s:.3f}")
    root = ET.Element("testsuites")
    root.append(suite)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return len(suite.findall("testcase"))
