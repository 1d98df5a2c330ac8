"""Root conftest: registers the streamspec plugin so ``pytest --help`` shows ``--adapter``."""

pytest_plugins = ("conformance.plugin",)
