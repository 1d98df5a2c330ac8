"""The streamspec conformance suite: one module per spec area, each case quoting what it checks."""

if __name__ == "conformance":  # a checkout's short name: the same modules as streamspec.conformance (streamspec/_checkout.py)
    from streamspec._checkout import alias

    alias(__name__)
