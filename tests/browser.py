"""Debian's Chromium driven by Playwright: no browser download, no network, a fresh profile each time."""
from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def missing() -> str | None:
    """Why the browser cannot run here, naming what to install; None when it can."""
    if not shutil.which(CHROMIUM):
        return "no headless browser: install Debian's `chromium` package (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no browser driver: install the `playwright` Python package (pip install -e '.[test]')"
    return None


@contextmanager
def chromium():
    """A browser context on the system Chromium with a throwaway user-data-dir."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield context
        finally:
            context.close()
