"""Every code block of the tutorials runs as written, in a new folder: ``yaml`` and ``python`` blocks with a
``title`` are files to save, other ``python`` blocks run in order in one session, ``bash`` lines are
``mercury-sim`` commands (run in-process) or ``python scripts/NAME.py`` (the checkout's scripts, run in a
process of their own), ``text`` blocks are output shown. A block of another language, or any other command,
fails: a tutorial holds nothing the reader cannot run."""

from __future__ import annotations

import re
import shlex
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

TUTORIALS = ["first-run", "own-scenario", "sweep-and-compare", "plugin-schedule", "learned-policy"]
FENCE = re.compile(r"^```(\w+)([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
TITLE = re.compile(r'title="([^"]+)"')


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, the file it names (``title="..."``) if any, and its text."""

    language: str
    title: str | None
    text: str


def blocks(markdown: str) -> list[Block]:
    """The fenced blocks of a page, in order."""
    out = []
    for language, info, text in FENCE.findall(markdown):
        title = TITLE.search(info)
        out.append(Block(language, title.group(1) if title else None, text))
    return out


def command_lines(text: str) -> list[list[str]]:
    """A bash block's commands: continuation lines joined, comments and blank lines dropped."""
    return [shlex.split(line, comments=True) for line in text.replace("\\\n", " ").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def run_blocks(page: str, items: list[Block], folder: Path) -> None:
    """Run a page's blocks in ``folder`` (the current directory), each failure naming the page and block."""
    from simulator.cli.app import main

    session = types.ModuleType(f"tutorial_{page.replace('-', '_')}")  # dataclasses look it up in sys.modules
    sys.modules[session.__name__] = session
    try:
        for i, block in enumerate(items):
            where = f"{page}.md, block {i + 1} ({block.language})"
            if block.title is not None:
                (folder / block.title).write_text(block.text, encoding="utf-8")
            elif block.language == "python":
                exec(compile(block.text, where, "exec"), session.__dict__)  # noqa: S102 - the page's own code
            elif block.language == "bash":
                for line in command_lines(block.text):
                    if line[:1] == ["python"] and len(line) > 1 and line[1].startswith("scripts/"):
                        run_script(line, folder, where)
                        continue
                    assert line[0] == "mercury-sim", f"{where}: not a mercury-sim command: {line}"
                    assert main(line[1:]) in (0, None), f"{where}: {shlex.join(line)}"
            else:
                assert block.language == "text", f"{where}: a block the tests cannot run (give yaml a title)"
    finally:
        sys.modules.pop(session.__name__, None)


def run_script(line: list[str], folder: Path, where: str) -> None:
    """``python scripts/NAME.py ARGS``: the checkout's script, in ``folder``, as a reader would run it."""
    import os
    import subprocess

    script = REPO / line[1]
    assert script.is_file(), f"{where}: no such script: {line[1]}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, str(script), *line[2:]], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"{where}: {shlex.join(line)}\n{done.stderr[-2000:]}"


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schedule kinds a page registers stay in its test."""
    from simulator.schedules import plugins, registry

    monkeypatch.setattr(registry, "_PLUGINS", dict(registry._PLUGINS))
    monkeypatch.setattr(plugins, "_FILES", {})
    monkeypatch.setattr(plugins, "_SOURCES", {})


@pytest.mark.parametrize("page", TUTORIALS)
def test_the_tutorial_runs_as_written(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = blocks((REPO / "docs" / "tutorials" / f"{page}.md").read_text(encoding="utf-8"))
    assert any(b.language == "bash" for b in items), f"{page}.md runs no command"
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # a notebook imports the modules saved beside it
    for name in [b.title.removesuffix(".py") for b in items if b.title and b.title.endswith(".py")]:
        monkeypatch.delitem(sys.modules, name, raising=False)
    run_blocks(page, items, tmp_path)
    for name in [b.title.removesuffix(".py") for b in items if b.title and b.title.endswith(".py")]:
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_blocks_are_read_in_order_with_their_titles() -> None:
    page = ('Text\n\n```yaml title="a.yaml"\nname: a\n```\n\n```bash\nmercury-sim run a.yaml \\\n    -o out  # x\n'
            '# a comment\n```\n\n```python\nx = 1\n```\n')
    items = blocks(page)
    assert items == [Block("yaml", "a.yaml", "name: a\n"), Block("bash", None, "mercury-sim run a.yaml \\\n"
                     "    -o out  # x\n# a comment\n"), Block("python", None, "x = 1\n")]
    assert command_lines(items[1].text) == [["mercury-sim", "run", "a.yaml", "-o", "out"]]


def test_a_block_that_cannot_run_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AssertionError, match="block 1 \\(sh\\)"):
        run_blocks("page", [Block("sh", None, "ls\n")], tmp_path)
    with pytest.raises(AssertionError, match="not a mercury-sim command"):
        run_blocks("page", [Block("bash", None, "rm -rf out\n")], tmp_path)
    with pytest.raises(AssertionError, match="not a mercury-sim command"):
        run_blocks("page", [Block("bash", None, "python -c 'print(1)'\n")], tmp_path)
    with pytest.raises(AssertionError, match="no such script"):
        run_blocks("page", [Block("bash", None, "python scripts/nothing.py\n")], tmp_path)
