"""The built site in a real browser, from disk: every page loads with every request to anything but a file
failing the test (no web font, script or style from elsewhere), without a console error, and shows its title."""

from __future__ import annotations

from pathlib import Path

import pytest
from _browser import chromium_page

pytestmark = pytest.mark.browser


def test_every_page_loads_offline(site: Path) -> None:
    pages = sorted(p for p in site.rglob("*.html") if p.name != "404.html")
    seen: dict = {}
    blocked: list[str] = []
    titles = {}
    with chromium_page(seen) as page:
        def route(request_route: object) -> None:
            url = request_route.request.url  # type: ignore[attr-defined]
            if url.startswith("file:"):
                request_route.continue_()  # type: ignore[attr-defined]
            else:
                blocked.append(url)
                request_route.abort()  # type: ignore[attr-defined]

        page.route("**/*", route)
        for html in pages:
            page.goto(html.as_uri(), wait_until="load")
            titles[str(html.relative_to(site))] = page.inner_text("article h1").rstrip("¶")
    assert blocked == []
    assert [r for r in seen["requests"] if not r.startswith("file:")] == []
    assert seen["console_errors"] == [] and seen["dialogs"] == []
    assert titles["index.html"] == "mercury-sim" and titles["reference/cli.html"] == "Commands"
    assert all(titles.values())
