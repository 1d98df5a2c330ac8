"""The reference server: pure ASGI, no framework, the definition of "right" for every scenario."""

if __name__ == "reference":  # a checkout's short name: the same modules as streamspec.reference (streamspec/_checkout.py)
    from streamspec._checkout import alias

    alias(__name__)
