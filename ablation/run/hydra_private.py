"""The calls into Hydra's private modules that the planner cannot do without, held here alone.

Hydra 1.3 has no public API for any of them:

* `apply_overrides`: the planner composes a grid's config groups once and re-applies only the plain `key=value`
  overrides for each job (a fraction of a full composition a job); Hydra applies them with this one private
  method of its config loader, and its public `load_sweep_config` always composes everything again.
* `group_exists`: whether an override picks a config group (cached with the groups' composition), asked of the
  loader's repository, which the public `ConfigLoader` interface does not expose.
* `cartesian`: the basic sweeper's expansion of sweep overrides (`a=1,2 b=x,y`) into jobs; reused so that a grid
  means what it means to Hydra's own sweeper.

A Hydra upgrade that moves them breaks this module only.
"""

from __future__ import annotations

from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig


def apply_overrides(parsed: list[Override], cfg: DictConfig) -> None:
    """Apply parsed plain overrides to a composed config, in place, as Hydra's composition does."""
    ConfigLoaderImpl._apply_overrides_to_config(parsed, cfg)


def group_exists(loader: Any, name: str) -> bool:
    """Whether `name` is a config group of the loader's search path (`head`, `hydra/launcher`)."""
    return bool(loader.repository.group_exists(name))


def cartesian(overrides: list[Override]) -> list[list[str]]:
    """Every job of a cartesian product of parsed overrides, each as its list of `key=value` strings."""
    return BasicSweeper.split_arguments(overrides, None)[0]
