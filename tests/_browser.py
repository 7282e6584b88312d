"""Headless Chromium for the page tests: a page that records console errors, dialogs and requests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
INIT = """window.__pwned = false;
window.alert = window.confirm = window.prompt = () => { window.__pwned = true; };"""


@contextmanager
def chromium_page(seen: dict[str, Any]) -> Iterator[Any]:
    """A 1200x900 page; ``seen`` collects ``console_errors``, ``dialogs`` (dismissed) and ``requests``."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    for key in ("console_errors", "dialogs", "requests"):
        seen.setdefault(key, [])
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.add_init_script(INIT)
            page.on("console", lambda m: m.type == "error" and seen["console_errors"].append(m.text))
            page.on("pageerror", lambda e: seen["console_errors"].append(str(e)))
            page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
            page.on("request", lambda r: seen["requests"].append(r.url))
            yield page
        finally:
            browser.close()
