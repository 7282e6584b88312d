"""CI runs what the README promises a new user, in an environment of its own."""

from __future__ import annotations

import re

from conftest import REPO

FRESH_MACHINE = "On a fresh machine"


def readme_commands() -> list[str]:
    """The indented commands of the README's 'On a fresh machine' paragraph."""
    text = (REPO / "README.md").read_text()
    start = text.index(FRESH_MACHINE)
    block = text[start:].split("\n\n", 3)
    return [line.strip() for part in block[1:3] for line in part.splitlines() if line.startswith("    ")]


def test_ci_runs_the_readmes_test_command_as_its_last_line() -> None:
    commands = readme_commands()
    test_command = next(c for c in commands if "pytest" in c)
    script = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith("#")]
    assert script[-1] == test_command


def test_ci_builds_a_new_environment_outside_the_checkout() -> None:
    script = (REPO / ".ci" / "run").read_text()
    venv = re.search(r'python3 -m venv "(\$\w+)/venv"', script)
    assert venv, "CI must create a virtual environment"
    assert re.search(rf'{re.escape(venv.group(1)[1:])}="\$\(mktemp -d ', script), "the environment must be new"
    assert "source" in script and "/venv/bin/activate" in script
    assert "trap 'rm -rf" in script
