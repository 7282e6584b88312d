"""Stage graphs: what one request runs where, beyond the two-tier chain.

A graph is built from five nodes, nested (a series-parallel graph with probabilistic choices):

* :class:`Compute` -- stages of a ViT on a named tier (``device``, ``cloud`` or a server of the scenario),
  or work that prices itself (:class:`PricedWork`: a diffusion model's denoising steps);
* :class:`Transfer` -- bytes from one tier to another over the link between them;
* :class:`Chain` -- steps one after the other;
* :class:`Fork` -- branches at once; the fork ends when its last branch does (fork-join);
* :class:`Branch` -- ``then`` with probability ``p``, else ``otherwise`` (drawn per request from a seeded
  stream of its own, so adding a branch never moves the arrivals or trace offsets of a run).

The engine executes any graph and never sees schedule names. Today's schedules keep their compact Plan
(:func:`simulator.plans.plan.chain_of` gives the graph it stands for); the engine runs those on a cheaper path
of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple, Protocol, Union

DEVICE, CLOUD = "device", "cloud"


class Stage(NamedTuple):
    """One unit of work: ``kind`` is embed | block | head | mercury_prune | tome_merge | attention.

    ``mac_scale`` prices a narrower stage than the profile measured: its curve at ``n_in`` tokens times the
    scale (a width-pruned block: its MACs over the unpruned block's on the same tokens). 1.0: as measured.
    """

    kind: str
    n_in: int
    n_out: int
    mac_scale: float = 1.0


class PricedWork(Protocol):
    """Compute that is not ViT stages and carries its own price: the tier's ViT profile cannot price it, so
    whoever builds the graph gives it the data that can (simulator/inputs/denoising.py). Must be hashable."""

    def seconds(self) -> float: ...


@dataclass(frozen=True)
class Compute:
    """ViT stages on one tier; ``model`` (a timm name) prices them, default the scenario's model. With
    ``work`` the Compute is that work instead (``stages`` stays empty) and ``work.seconds()`` prices it."""

    tier: str
    stages: tuple[Stage, ...]
    model: str | None = None
    label: str = ""
    work: PricedWork | None = None

    def __post_init__(self) -> None:
        if self.work is not None and self.stages:
            raise ValueError("a Compute is ViT stages or priced work, not both")

    @property
    def name(self) -> str:
        return self.label or self.tier


@dataclass(frozen=True)
class Transfer:
    """``n_bytes`` from tier ``src`` to tier ``dst`` over the link between them."""

    src: str
    dst: str
    n_bytes: int
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or f"{self.src}->{self.dst}"


@dataclass(frozen=True)
class Chain:
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Fork:
    """Branches that run at the same time; the request goes on when the last one ends."""

    branches: tuple[Step, ...]


@dataclass(frozen=True)
class Branch:
    """``then`` with probability ``p``, else ``otherwise``; each arm may set the request's accuracy."""

    p: float
    then: Step
    otherwise: Step
    then_accuracy: float | None = None
    otherwise_accuracy: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"a branch probability must be in [0, 1], got {self.p}")


Step = Union[Compute, Transfer, Chain, Fork, Branch]  # noqa: UP007 (a runtime alias of forward references)
NOTHING = Chain(())


def leaves(step: Step) -> Iterator[Compute | Transfer]:
    """Every Compute and Transfer of a graph, in order (both arms of a branch)."""
    if isinstance(step, Compute | Transfer):
        yield step
    elif isinstance(step, Chain):
        for s in step.steps:
            yield from leaves(s)
    elif isinstance(step, Fork):
        for s in step.branches:
            yield from leaves(s)
    else:
        yield from leaves(step.then)
        yield from leaves(step.otherwise)


def tiers(step: Step) -> set[str]:
    """Every tier a graph computes on or sends to or from."""
    out: set[str] = set()
    for leaf in leaves(step):
        out.update((leaf.tier,) if isinstance(leaf, Compute) else (leaf.src, leaf.dst))
    return out


def needs_stage_table(step: Step) -> bool:
    """A graph with a fork, a branch or more than two tiers: its records get a per-stage table."""
    def shaped(s: Step) -> bool:
        if isinstance(s, Fork | Branch):
            return True
        return isinstance(s, Chain) and any(shaped(x) for x in s.steps)
    return shaped(step) or len(tiers(step)) > 2
