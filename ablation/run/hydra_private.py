"""The calls into Hydra's private modules that the planner cannot do without, held here alone.

Hydra 1.3 has no public API for any of them:

* `apply_overrides`: the planner composes a grid's config groups once and re-applies only the plain `key=value`
  overrides for each job (a fraction of a full composition a job); Hydra applies them with this one private
  method of its config loader, and its public `load_sweep_config` always composes everything again.
* `group_exists`: whether an override picks a config group (cached with the groups' composition), asked of the
  loader's repository, which the public `ConfigLoader` interface does not expose.
* `remembering`: a copy of the config loader whose repository keeps each config file as first loaded, for the
  compositions of one sweep. Hydra keeps a file only for one composition (its `CachingConfigRepository` is made
  afresh each time), so a grid with 20 choices of config groups would read and parse every file 20 times.
* `cartesian`: the basic sweeper's expansion of sweep overrides (`a=1,2 b=x,y`) into jobs; reused so that a grid
  means what it means to Hydra's own sweeper.

A Hydra upgrade that moves them breaks this module only.
"""

from __future__ import annotations

import copy
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra._internal.config_repository import IConfigRepository
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_search_path import ConfigSearchPath
from hydra.core.object_type import ObjectType
from hydra.core.override_parser.types import Override
from hydra.plugins.config_source import ConfigLoadError, ConfigResult, ConfigSource
from omegaconf import DictConfig


def apply_overrides(parsed: list[Override], cfg: DictConfig) -> None:
    """Apply parsed plain overrides to a composed config, in place, as Hydra's composition does."""
    ConfigLoaderImpl._apply_overrides_to_config(parsed, cfg)


def group_exists(loader: Any, name: str) -> bool:
    """Whether `name` is a config group of the loader's search path (`head`, `hydra/launcher`)."""
    return bool(loader.repository.group_exists(name))


class _Remembering(IConfigRepository):
    """A config repository that keeps what it loaded, shared by its copies (Hydra deep-copies the repository
    for each composition), keyed by the search path too. Each load returns a deep copy: a composition merges a
    loaded file's nodes into its config without copying them, and updates its defaults list in place."""

    def __init__(self, delegate: IConfigRepository, kept: dict[tuple, ConfigResult | ConfigLoadError | None]) -> None:
        self.delegate, self.kept = delegate, kept

    def __deepcopy__(self, memo: dict[int, Any]) -> _Remembering:
        return _Remembering(copy.deepcopy(self.delegate, memo), self.kept)

    def load_config(self, config_path: str) -> ConfigResult | None:
        key = (tuple((s.provider, s.path) for s in self.delegate.get_sources()), config_path)
        if key not in self.kept:
            try:
                self.kept[key] = self.delegate.load_config(config_path)
            except ConfigLoadError as e:  # a broken file fails every composition that loads it, as without keeping
                self.kept[key] = e
        kept = self.kept[key]
        if isinstance(kept, ConfigLoadError):
            raise kept
        return copy.deepcopy(kept)

    def get_schema_source(self) -> ConfigSource:
        return self.delegate.get_schema_source()

    def initialize_sources(self, config_search_path: ConfigSearchPath) -> None:
        self.delegate.initialize_sources(config_search_path)

    def group_exists(self, config_path: str) -> bool:
        return self.delegate.group_exists(config_path)

    def config_exists(self, config_path: str) -> bool:
        return self.delegate.config_exists(config_path)

    def get_group_options(self, group_name: str,
                          results_filter: ObjectType | None = ObjectType.CONFIG) -> list[str]:
        return self.delegate.get_group_options(group_name, results_filter)

    def get_sources(self) -> list[ConfigSource]:
        return self.delegate.get_sources()


def remembering(loader: Any) -> Any:
    """A copy of `loader` (a ConfigLoaderImpl) whose compositions read and parse each config file once. The
    loader itself is left as it is: the launcher hands it on to the jobs."""
    mine = copy.copy(loader)
    mine.repository = _Remembering(loader.repository, {})
    return mine


def cartesian(overrides: list[Override]) -> list[list[str]]:
    """Every job of a cartesian product of parsed overrides, each as its list of `key=value` strings."""
    return BasicSweeper.split_arguments(overrides, None)[0]
