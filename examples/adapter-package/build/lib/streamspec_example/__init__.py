"""A worked third-party streamspec adapter: ``app.py`` serves the contract, ``adapter.py`` declares it."""
