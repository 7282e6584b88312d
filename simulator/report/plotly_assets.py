"""plotly.js and plotly's page template, read from the installed plotly package's data files without
importing plotly: its figure classes cost about 0.4 s at start-up, and a page needs only these files (the
browser draws the figures from plain JSON specs)."""

from __future__ import annotations

import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any


@cache
def package_data() -> Path:
    """plotly's ``package_data`` folder (found, not imported)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("plotly is not installed: the report needs its plotly.js bundle")
    return Path(next(iter(spec.submodule_search_locations))) / "package_data"


@cache
def plotlyjs() -> str:
    """The minified plotly.js bundle plotly ships (what ``plotly.offline.get_plotlyjs`` returns)."""
    return (package_data() / "plotly.min.js").read_bytes().decode("utf-8")


@cache
def plotlyjs_version() -> str:
    """plotly.js's version, from the bundle's licence header (``* plotly.js v4.1.1``)."""
    with (package_data() / "plotly.min.js").open(encoding="utf-8") as bundle:
        found = re.search(r"plotly\.js v(\d[\w.+-]*)", bundle.read(512))
    if found is None:
        raise ValueError(f"{package_data() / 'plotly.min.js'}: no 'plotly.js vX.Y.Z' in its header")
    return found.group(1)


@cache
def template(name: str) -> dict[str, Any]:
    """A named plotly template (``plotly_white``) as the JSON layout entry plotly itself writes."""
    return json.loads((package_data() / "templates" / f"{name}.json").read_text(encoding="utf-8"))
