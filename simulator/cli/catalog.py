"""``mercury-sim catalog``: the shipped data a scenario may name, as tables or JSON
(:func:`simulator.inputs.catalog.catalog`)."""

from __future__ import annotations

from typing import Any

import typer

MEASURE_NOTE = ("Data of your own: a device's latency with 'mercury-sim profile --model MODEL --out FILE.yaml' "
                "(mobile_profile/cloud_profile: FILE.yaml), a model's accuracy with 'mercury-sim accuracy' "
                "(accuracy_tables: [FILE.csv]).")


def catalog(
    as_json: bool = typer.Option(False, "--json", help="Print the catalog as JSON (every field, file paths too)"),
) -> None:
    """List the shipped profiles (the models each prices), accuracy rows (model, dataset, method, split,
    prune point, parameter range, rows), radio models, traces, scenarios and claims files, with provenance."""
    import json

    from simulator.inputs.catalog import catalog as shipped

    document = shipped()
    if as_json:
        typer.echo(json.dumps(document, indent=2))
        return
    _print(document)
    _prose(MEASURE_NOTE)


def _prose(text: str) -> None:
    """A paragraph folded to the terminal's width (piped: one line, as the tables)."""
    import textwrap

    from simulator.cli.console import table_console

    typer.echo(textwrap.fill(text, width=table_console().width, break_long_words=False, break_on_hyphens=False))


def _print(document: dict[str, Any]) -> None:
    from rich.table import Table

    from simulator.cli.console import print_table

    def build(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
        out = Table(title=title)
        for column in columns:
            out.add_column(column)
        for row in rows:
            out.add_row(*("-" if cell is None else str(cell) for cell in row))
        return out

    def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
        print_table(build(title, columns, rows))

    table("profiles (latency per stage; a scenario's mobile_profile, cloud_profile)",
          ["name", "provenance", "models", "device"],
          [[e["name"], e["provenance"], "\n".join(_model_kind(e, m) for m in e["models"]), e["device"]]
           for e in document["profiles"]])
    title = "accuracy rows (the shipped tables; a scenario's model, dataset and schedules pick them)"
    columns = ["method", "split", "reconstruction", "prune point", "parameter", "rows", "provenance"]

    def cells(e: dict[str, Any]) -> list[Any]:
        return [e["method"], "any" if e["split_after"] is None else e["split_after"], e["reconstruction"],
                e["prune_point"], f"{e['parameter_min']:g}-{e['parameter_max']:g}", e["rows"],
                ", ".join(e["provenance"])]

    groups: dict[tuple[str, str, str], list[list[Any]]] = {}
    for e in document["accuracy"]:
        groups.setdefault((e["model"], e["dataset"], e["table"]), []).append(cells(e))
    whole = build(title, ["model", "dataset", *columns, "table"],
                  [[e["model"], e["dataset"], *cells(e), e["table"]] for e in document["accuracy"]])
    # too wide for the terminal: a table per model and dataset, named in its title
    print_table(whole, narrow=[build(f"{model} on {dataset} ({name})", columns, rows)
                               for (model, dataset, name), rows in groups.items()])
    for entry in document.get("accuracy_tables", []):
        if entry["notes"].get("gaps"):
            _prose(f"{entry['name']}, not in it: {entry['notes']['gaps']}")
    table("radio models (energy.radio)", ["name", "provenance", "technology"],
          [[e["name"], e["provenance"], e["technology"]] for e in document["radio_models"]])
    table("traces (network.trace)", ["name", "provenance", "duration s"],
          [[e["name"], e["provenance"], e["duration_s"]] for e in document["traces"]])
    table("scenarios (mercury-sim run NAME)", ["name", "description"],
          [[e["name"], e["description"]] for e in document["scenarios"]])
    table("claims files (mercury-sim check NAME)", ["name", "title"],
          [[e["name"], e["title"]] for e in document["claims"]])


def _model_kind(entry: dict, model: str) -> str:
    """A profile's model, with its own provenance kind where it differs from the file's (``derived``)."""
    kind = (entry.get("model_provenance") or {}).get(model, entry["provenance"])
    return model if kind == entry["provenance"] else f"{model} ({kind})"
