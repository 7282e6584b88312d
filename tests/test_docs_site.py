"""The documentation site builds with ``mkdocs build --strict`` (every warning an error), its generated
references hold every command, option and scenario key the code has, its data table is the shipped data's, and
the built pages load nothing from the network: no web fonts, no scripts or styles from elsewhere."""

from __future__ import annotations

import re
import typing
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pydantic import BaseModel

pytest.importorskip("mkdocs")
pytest.importorskip("material")


def page(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def test_every_command_and_option_is_in_the_reference(site: Path) -> None:
    from simulator.cli.click_command import command, command_paths

    html = page(site, "reference/cli.html")
    missing = []

    def walk(cmd: typing.Any, path: str) -> None:
        anchor = path.replace(" ", "-")
        if f'id="{anchor}"' not in html:
            missing.append(path)
        for param in cmd.params:
            missing.extend(f"{path} {opt}" for opt in getattr(param, "opts", []) if opt.startswith("-")
                           and opt not in html)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(command, "mercury-sim")
    assert missing == []
    assert len(command_paths()) >= 20 and html.count('id="mercury-sim-') == len(command_paths()) - 1


def fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted key of a config model, walked into nested models, mappings and lists of models."""
    out = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        if name == "schedules" and not prefix:
            out.append(key)
            continue
        out.append(key)
        for arg in [field.annotation, *typing.get_args(field.annotation)]:
            inner = [a for a in [arg, *typing.get_args(arg)] if isinstance(a, type) and issubclass(a, BaseModel)]
            for sub in inner:
                origin = typing.get_origin(arg)
                joint = ".<name>." if origin is dict else "[]." if origin is list else "."
                out.extend(fields(sub, f"{key}{joint}"))
    return sorted(set(out))


def schedule_models() -> dict[str, type[BaseModel]]:
    """Every kind's config model: the shipped kinds' (by their ``kind`` literal) and the shipped plug-ins'."""
    from simulator.config import scenario as schema
    from simulator.schedules import registrations

    models = {kind: model for kind, (model, _build) in registrations().items()
              if isinstance(model, type) and issubclass(model, BaseModel)}
    for value in vars(schema).values():
        if isinstance(value, type) and issubclass(value, BaseModel) and "kind" in value.model_fields:
            kinds = typing.get_args(value.model_fields["kind"].annotation)
            models.update({kind: value for kind in kinds if isinstance(kind, str)})
    return models


def test_every_scenario_key_is_in_the_reference(site: Path) -> None:
    from simulator.config.scenario import Scenario

    html = page(site, "reference/scenario-keys.html")
    keys = fields(Scenario)
    assert {"network.rtt_ms", "workload.seed", "servers.<name>.link.trace", "server_links[].mbps"} <= set(keys)
    assert [k for k in keys if f"<code>{k.replace('<', '&lt;').replace('>', '&gt;')}</code>" not in html] == []
    sections = dict(re.findall(r'<h3 id="[^"]*">(.*?)<a class="headerlink".*?</h3>(.*?)(?=<h[23] |\Z)', html, re.S))
    kinds = schedule_models()
    assert {"mercury", "janus", "cascade", "hybrid-generation"} <= set(kinds)
    for kind, model in kinds.items():
        heading = next((h for h in sections if kind in h.split(" / ")), None)
        assert heading is not None, f"schedule kind {kind} has no section"
        absent = [k for k in fields(model) if f"<code>{k}</code>" not in sections[heading]]
        assert absent == [], kind


def test_the_data_table_is_the_shipped_data(site: Path) -> None:
    from simulator.inputs.catalog import model_coverage

    html = page(site, "reference/data.html")
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    for entry in model_coverage():
        row = next((r for r in rows if f"<td><code>{entry.model}</code></td>" in r), None)
        assert row is not None, entry.model
        assert all(f"<code>{p}</code>" in row for p in entry.profiles), entry.model
        assert all(dataset in row for dataset in entry.accuracy), entry.model


def test_the_api_reference_is_generated_from_docstrings(site: Path) -> None:
    html = page(site, "reference/api.html")
    assert 'id="simulator.model.runner.run"' in html and 'id="simulator.config.scenario.load_scenario"' in html
    assert "Raises" in html or "Returns" in html or "Parameters" in html or "doc-contents" in html


class _Loads(HTMLParser):
    """What a page makes a browser fetch: scripts, styles, images, frames, fonts preloaded."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {"script": "src", "img": "src", "iframe": "src", "source": "src", "link": "href"}
        values = dict(attrs)
        if tag in names and values.get(names[tag]):
            self.urls.append(values[names[tag]] or "")


def external(url: str) -> bool:
    return bool(re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", url, re.I)) and not url.startswith("file:")


def test_the_built_pages_fetch_nothing_from_the_network(site: Path) -> None:
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 25
    found = {}
    for html in pages:
        parser = _Loads()
        parser.feed(html.read_text(encoding="utf-8"))
        found.update({f"{html.relative_to(site)}: {u}": 1 for u in parser.urls if external(u)})
    for css in site.rglob("*.css"):
        found.update({f"{css.relative_to(site)}: {u}": 1 for u in re.findall(r"url\(['\"]?([^'\")]+)", css.read_text())
                      if external(u)})
    assert list(found) == []
    assert "fonts.googleapis" not in page(site, "index.html")


def test_external_urls_are_recognised() -> None:
    assert external("https://fonts.googleapis.com/css") and external("//cdn.example/x.js")
    assert not external("assets/javascripts/bundle.js") and not external("../images/report.png")
