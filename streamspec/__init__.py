"""streamspec core: the scenario contract, the shared producer and probe, and the process launcher.

Everything here is framework-neutral. Servers (the reference and every adapter) import the contract,
the producer and the probe; the conformance suite imports the contract (to know what body to expect)
and the launcher (to run servers as real processes). Nothing here imports a web framework.
"""

from pathlib import Path as _Path

# In a checkout, streamspec.conformance, .reference, .adapters and .loadtests are the repository's
# top-level folders (installed, pyproject puts them inside the package): an interpreter that only has
# the checkout on its path (a server under --python, another venv) finds them through this package path.
_CHECKOUT = _Path(__file__).resolve().parent.parent
if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "conformance" / "plugin.py").is_file():
    __path__.append(str(_CHECKOUT))  # type: ignore[name-defined]  # noqa: F821
