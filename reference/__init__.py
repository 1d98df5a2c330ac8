"""The reference server: pure ASGI, no framework, the definition of "right" for every scenario."""
