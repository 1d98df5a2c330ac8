"""Built-in framework adapters: one ``<name>_adapter.py`` (the declaration) and one ``<name>_app.py``
(the framework app and its ``python -m`` entry point) per framework."""
