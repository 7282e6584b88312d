"""Every relative link in the committed pages (the paper-reproduction page, the READMEs) points at a file a
fresh clone has: a tracked file, not one that only a local run writes."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from conftest import REPO

LINK = re.compile(r"""(?:href|src)="([^"]+)"|\]\(([^)\s]+)\)""")


def tracked() -> set[str]:
    done = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip("not a git checkout")
    return set(done.stdout.splitlines())


def relative_links(text: str) -> list[str]:
    out = []
    for match in LINK.finditer(text):
        target = match.group(1) or match.group(2)
        parsed = urlparse(target)
        if parsed.scheme or target.startswith(("#", "//")) or not parsed.path:
            continue
        out.append(unquote(parsed.path))
    return out


def pages() -> list[str]:
    return sorted(p for p in tracked() if p.endswith((".md", ".html")))


def test_the_paper_reproduction_page_is_committed() -> None:
    assert "reports/paper-reproduction.html" in pages()


@pytest.mark.parametrize("page", pages())
def test_relative_links_point_at_tracked_files(page: str) -> None:
    files = tracked()
    folders = {str(Path(f).parent) for f in files} | {str(p) for f in files for p in Path(f).parents}
    text = (REPO / page).read_text(encoding="utf-8")
    dead = []
    for link in relative_links(text):
        target = os.path.normpath(os.path.join(os.path.dirname(page), link))
        if target not in files and target not in folders:
            dead.append(link)
    assert not dead, f"{page} links to files a fresh clone lacks: {dead}"
