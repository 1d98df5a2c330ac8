"""streamspec core: the scenario contract, the shared producer and probe, and the process launcher.

Everything here is framework-neutral. Servers (the reference and every adapter) import the contract,
the producer and the probe; the conformance suite imports the contract (to know what body to expect)
and the launcher (to run servers as real processes). Nothing here imports a web framework.
"""
