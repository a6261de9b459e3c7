"""The package's own recipe presets (`conf/optimizer/*.yaml`, `conf/schedule/*.yaml`), as shipped.

Checking a recipe means building its optimizer, and building any torch.optim optimizer imports torch._dynamo
(over a second, once per process). A planner that only needs to know the package's own presets build, step and
update element-wise need not pay that: `tests/test_presets.py` checks every shipped optimizer with every shipped
schedule through `ablation.recipe` itself. A recipe with any key changed from its preset (`optimizer.lr=0.01`),
and a user's own, is checked in full.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from . import recipe

CONF = Path(__file__).resolve().parent / "conf"
GROUPS = ("optimizer", "schedule")


@lru_cache(maxsize=None)
def shipped(group: str) -> tuple[dict, ...]:
    """Every preset of a recipe group as the package ships it (unresolved: a schedule's `${train.epochs}` stays)."""
    return tuple(OmegaConf.to_container(OmegaConf.load(f), resolve=False)  # type: ignore[misc]
                 for f in sorted((CONF / group).glob("*.yaml")))


def is_shipped(cfg: DictConfig) -> bool:
    """Whether the run's optimizer and schedule are each one of the package's presets, unchanged."""
    for group in GROUPS:
        node = OmegaConf.to_container(cfg[group], resolve=False) if group in cfg else {}
        if node not in shipped(group):
            return False
    return True


def problem(cfg: DictConfig) -> str | None:
    """What is wrong with the run's recipe, in one line, or None (recipe.problem, skipped for shipped presets)."""
    return None if is_shipped(cfg) else recipe.problem(cfg)


def elementwise(cfg: DictConfig) -> bool:
    """Whether the run's optimizer updates element-wise (recipe.elementwise; every shipped optimizer does)."""
    return True if is_shipped(cfg) else recipe.elementwise(cfg)
