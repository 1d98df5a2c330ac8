"""An expectations file can include others: the ASGI servers' own findings are written once
(``streamspec:asgi_servers_expectations.toml``) and apply to every adapter served by those servers."""

from __future__ import annotations

import pytest

from conformance import expectations


def test_included_entries_apply_after_the_files_own_and_respect_the_server(tmp_path):
    (tmp_path / "shared.toml").write_text('[[expected]]\ncase = "hostile.*"\nserver = "uvicorn"\nreason = "shared"\n'
                                          '[[expected]]\ncase = "b.*"\nversions = ["zzz-framework<2"]\nreason = "old"\n')
    own = tmp_path / "own.toml"
    own.write_text('include = ["shared.toml"]\n\n[[expected]]\ncase = "hostile.cl-te-both"\nreason = "own"\n')
    on_uvicorn = expectations.load(own, "uvicorn", {"zzz-framework": "1.0"})
    assert on_uvicorn.for_case("hostile.cl-te-both").reason == "own"  # the file's own entry wins
    assert on_uvicorn.for_case("hostile.te-cl-smuggle").reason == "shared"
    assert on_uvicorn.for_case("b.x").reason == "old"
    assert expectations.load(own, "granian").for_case("hostile.te-cl-smuggle") is None
    assert expectations.named_distributions(own) == ["zzz-framework"]  # versions in included files are looked up


def test_the_shipped_server_findings_are_found_by_name(tmp_path):
    own = tmp_path / "own.toml"
    own.write_text('include = ["streamspec:asgi_servers_expectations.toml"]\n')
    granian = expectations.load(own, "granian")
    assert granian.for_case("hostile.chunk-size-plus") is not None
    assert expectations.load(own, "uvicorn").for_case("hostile.chunk-size-plus") is None


def test_a_missing_or_circular_include_is_an_error_naming_the_file(tmp_path):
    own = tmp_path / "own.toml"
    own.write_text('include = ["nosuch.toml"]\n')
    with pytest.raises(expectations.ExpectationsError, match="nosuch.toml does not exist"):
        expectations.load(own, "uvicorn")
    own.write_text('include = ["own.toml"]\n')
    with pytest.raises(expectations.ExpectationsError, match="includes itself"):
        expectations.load(own, "uvicorn")
