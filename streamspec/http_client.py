"""httpx clients for the suite's own control requests (the probe, readiness polls, the store).

A default ``httpx.Client`` loads the CA bundle when it is made: about 30-45 ms of CPU each time. The
suite made one per ``GET /probe`` after every case and per readiness poll, which was several seconds of
CPU per run, on a 2-core machine where CPU bounds the run's wall time. A plain ``http://`` URL never
checks a certificate, so for those the bundle is not loaded (``verify=False`` changes nothing else); an
``https://`` deployment (``--adapter=external``) keeps httpx's default verification.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx


def _verify(url: str) -> bool:
    return urlsplit(url).scheme != "http"


def client(base_url: str, timeout: float, **kwargs) -> httpx.Client:
    """A client for ``base_url``; cheap to make when the URL is plain HTTP."""
    return httpx.Client(base_url=base_url, timeout=timeout, verify=_verify(base_url), **kwargs)


def get(url: str, timeout: float, **kwargs) -> httpx.Response:
    """One GET on a new connection (``httpx.get`` without the CA bundle for plain HTTP)."""
    with httpx.Client(timeout=timeout, verify=_verify(url)) as http:
        return http.get(url, **kwargs)
