"""Root conftest. The streamspec plugin is registered by its ``pytest11`` entry point
(``streamspec.conformance.plugin``, installed by ``pip install -e .``), in a checkout as anywhere else."""
