"""Built-in framework adapters: one ``<name>_adapter.py`` (the declaration) and one ``<name>_app.py``
(the framework app and its ``python -m`` entry point) per framework."""

if __name__ == "adapters":  # a checkout's short name: the same modules as streamspec.adapters (streamspec/_checkout.py)
    from streamspec._checkout import alias

    alias(__name__)
