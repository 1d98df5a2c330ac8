"""The streamspec conformance suite: one module per spec area, each case quoting what it checks."""
