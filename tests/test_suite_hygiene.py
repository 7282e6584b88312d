"""The suite runs in any environment a fresh install makes.

Some packages install a top-level ``tests`` package of their own (mutmut 3.3.0 does), which shadows this
folder: a test module that imports ``tests.<module>`` then fails to import. Test modules import their
helpers by module name (``from conftest import ...``), as pytest puts this folder on the path.
"""

from __future__ import annotations

import ast

from conftest import REPO


def test_no_test_module_imports_the_tests_package() -> None:
    offenders = []
    for path in sorted((REPO / "tests").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.name}:{node.lineno}" for name in names if name == "tests" or
                          name.startswith("tests.")]
    assert not offenders, f"import helpers by module name, not from the 'tests' package: {offenders}"
