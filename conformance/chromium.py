"""Debian's Chromium, driven by Playwright, in a temporary directory of its own that is removed afterwards.

Why: Chromium puts its singleton socket in ``$TMPDIR/org.chromium.Chromium.*`` and Playwright's driver its
profile (``playwright_chromiumdev_profile-*``) and artifacts there too. A browser that is killed (the SSE
browser case kills it rather than wait 1.5 s for a graceful close) never removes them: a few hundred
runs left a few hundred directories in ``/tmp``. Here the driver and the browser see a private ``TMPDIR``
that goes away with the browser, whatever happened to it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator


@contextlib.contextmanager
def launched(executable: str, args: list[str], before_close: Callable[[object], None] = lambda b: None
             ) -> Iterator[object]:
    """A launched ``playwright`` Browser; on leaving, ``before_close(browser)`` runs (e.g. to kill its
    processes), the browser is closed, the driver stopped, and the private temporary directory removed."""
    from playwright.sync_api import sync_playwright

    private = tempfile.mkdtemp(prefix="streamspec-chromium-")
    try:
        with _environ(TMPDIR=private):  # the driver is a child process: it reads TMPDIR when it starts
            playwright = sync_playwright().start()
        try:
            browser = playwright.chromium.launch(executable_path=executable, args=args,
                                                 env={**os.environ, "TMPDIR": private})
            try:
                yield browser
            finally:
                try:
                    before_close(browser)
                finally:
                    try:
                        browser.close()
                    except Exception:  # noqa: BLE001 - a killed or crashed browser must not hide the verdict
                        pass
        finally:
            playwright.stop()
    finally:
        shutil.rmtree(private, ignore_errors=True)


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
