"""Regenerate docs/images/report.png, the picture of a report the README and the site show: the shipped default
scenario run into a temporary folder, its report.html opened from disk in headless Chromium (Playwright), the
top of the page captured.

    python scripts/report_screenshot.py [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from simulator.cli.app import main as mercury_sim

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "images" / "report.png"


def capture(chromium: str, out: Path = OUT) -> Path:
    """Run the default scenario and capture its report's first screen (1200 x 1400 CSS pixels)."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "default"
        mercury_sim(["run", "default", "-o", str(run), "-q"])
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            page.goto((run / "report.html").as_uri(), wait_until="load")
            page.wait_for_function("document.querySelectorAll('.figure .main-svg').length > 1")
            page.wait_for_timeout(500)  # plotly's transitions settle
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
            browser.close()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    print(f"wrote {capture(parser.parse_args().chromium).relative_to(ROOT)}")
