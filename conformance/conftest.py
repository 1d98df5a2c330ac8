"""The name every unframed case is parametrized over (``cases.case``), so that each case's node id
carries its id (``test_head_gets_headers_only[chunking.head]``) as the framed ones do
(``test_x[abort.idle.chunked]``). A case never asks for it; the parametrization supplies its value."""

import pytest


@pytest.fixture(autouse=True)
def streamspec_case():
    return None
