"""The project's tests run the suite many times: they share one fixture tree and one S3 store (per test
process), made here once, instead of each run writing 256 MiB and starting moto for itself. The suite
runs inherit them through the environment (``conformance/downloads.py``); they go when this process ends."""

import pytest

from conformance import downloads


@pytest.fixture(scope="session", autouse=True)
def shared_files_and_store():
    downloads.ensure(files=True, store=True, relay=False)
    yield
    downloads.cleanup()
