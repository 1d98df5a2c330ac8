"""SPEC.md lists every case, with the level and source the code declares (generated; see
scripts/spec_catalogue.py)."""

import subprocess
import sys

from tests.suite_runner import ROOT


def test_spec_catalogue_is_current():
    sys.path.insert(0, str(ROOT / "scripts"))
    import spec_catalogue

    assert spec_catalogue.embedded() == spec_catalogue.render(), (
        "SPEC.md's case catalogue is stale: run `python scripts/spec_catalogue.py --write`")


def test_every_case_id_is_unique():
    sys.path.insert(0, str(ROOT / "scripts"))
    import spec_catalogue

    ids = [c["id"] for c in spec_catalogue.cases()]
    assert len(ids) == len(set(ids)), f"duplicate case ids: {sorted(i for i in ids if ids.count(i) > 1)}"


def test_catalogue_knows_the_framings():
    sys.path.insert(0, str(ROOT / "scripts"))
    import spec_catalogue

    from conformance.cases import FRAMINGS

    from conformance import catalogue

    assert catalogue.FRAMINGS == FRAMINGS
