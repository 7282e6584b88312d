"""``mercury-sim policy export MODEL.zip OUT.json``: a stable-baselines3 PPO model as a safe policy file.

Mounted as a command group by simulator/cli/app.py; torch and stable-baselines3 load only when it runs (the
``train`` extra, checked first). What the network reads and picks among comes from the contract file the training
wrote beside the model (``MODEL.contract.json``: the observation spec, the action set, the provenance).
"""

from __future__ import annotations

from pathlib import Path

import typer

from simulator.errors import InputError

app = typer.Typer(help="Learned schedules: convert a trained model into a policy file (kind: policy).",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)

@app.command("export")
def export(
    model: str = typer.Argument(..., metavar="MODEL.zip", help="A stable-baselines3 PPO model (MlpPolicy)"),
    out: str = typer.Argument(..., metavar="OUT.json", help="The policy description to write (its weights go "
                                                              "beside it, OUT.safetensors)"),
    contract: str | None = typer.Option(None, "--contract", help="The training's contract (observation spec, "
                                                                 "actions, provenance) [MODEL.contract.json]"),
    scenario: str | None = typer.Option(None, "--scenario", help="Instead of a contract: the scenario the model "
                                                                 "was trained on with the environment's defaults"),
) -> None:
    """Convert a PPO model into a policy file that loads without running code (safetensors + JSON)."""
    from simulator.cli.extras import require_extra

    require_extra("policy export", "train")
    from simulator.files.output_guard import guard_file, names_mercury_sim
    from simulator.rl.export import contract_path, read_contract, write_from_zip
    from simulator.schedules.observation import ObservationSpec

    model_zip, out_path = Path(model), Path(out)
    if not model_zip.is_file():
        raise InputError(model_zip, "no such model file")
    if out_path.suffix != ".json":
        raise InputError(out_path, "the policy description is a .json file")
    if contract and scenario:
        raise InputError(None, "give --contract or --scenario, not both")
    if scenario:
        from simulator.cli.command_line import command_line
        from simulator.config.scenario import load_scenario
        from simulator.rl.train import scenario_contract

        source = load_scenario(scenario).path
        doc = scenario_contract(source, model_zip, command_line())
    else:
        source = Path(contract) if contract else contract_path(model_zip)
        doc = read_contract(source)
    try:
        spec = ObservationSpec.from_json(doc["observation"])
    except (TypeError, ValueError) as exc:
        raise InputError(source, f"observation: {exc}") from None
    for target in (out_path, out_path.with_suffix(".safetensors")):
        guard_file(target, inputs=[model_zip, source], ours=names_mercury_sim)
    weights = write_from_zip(model_zip, out_path, observation=spec.as_json(), observation_size=spec.size,
                             actions=doc["actions"], provenance=doc["provenance"])
    typer.echo(f"wrote {out_path} and {weights}")
