"""The pre-flight: each head × depth of a grid measured at initialisation before anything trains, and what the
mechanism predicts for the pair orders it is run on (each run measures its own test images again)."""

from __future__ import annotations

import torch
from omegaconf import DictConfig

from ..config import component_name
from ..mechanism import Structure, classify, diagnosis
from ..structure import at_init, quadruples
from ..train import build

PREFLIGHT_IMAGES = 256  # random images the pre-flight measures each head on (a run measures its test images)


def head_structure(cfg: DictConfig) -> Structure:
    """A head × depth's structure at initialisation, measured before anything trains: the config's model, built
    and initialised as a run would be, on random images (each run measures its own test images again)."""
    with torch.random.fork_rng():  # the planner's random state is left as it was
        torch.manual_seed(0)
        model, _ = build(cfg)
        x = torch.rand(PREFLIGHT_IMAGES, 784)
        m = at_init(model, x, quadruples(PREFLIGHT_IMAGES, 0))
    return classify(m["interaction_init"], m["symmetry_residual_init"], m["antisymmetry_residual_init"])


def preflight(heads: list[tuple[DictConfig, list[str]]]) -> list[str]:
    """One line per head × depth of a grid (its config and the pair orders it is run on): its measured structure
    and what the mechanism predicts for those orders. A head is named by its short name, and by its class too
    where two classes of the grid share that name."""
    names = {cfg.head._target_: component_name(cfg.head) for cfg, _ in heads}
    clash = {n for n in names.values() if list(names.values()).count(n) > 1}
    label = lambda cfg: names[cfg.head._target_] + (f" ({cfg.head._target_})" if names[cfg.head._target_] in clash else "")  # noqa: E731
    return [diagnosis(label(cfg), int(cfg.depth), head_structure(cfg), orders) for cfg, orders in heads]
