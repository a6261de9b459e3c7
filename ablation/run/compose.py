"""A grid's jobs composed into configs as `load_sweep_config` makes them, each choice of config groups and each
cell composed once.

Hydra composes the groups' defaults first and applies plain `key=value` overrides last, so the group part can be
cached and only the values re-applied, a fraction of a full composition a job. Jobs that differ only in their seed
(a cell's replicates) share one config whose `seed` is set for each."""

from __future__ import annotations

import copy
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import OverrideType
from hydra.errors import ConfigCompositionException
from omegaconf import DictConfig, OmegaConf

from ..errors import forced, unknown_key
from .hydra_private import apply_overrides, group_exists, remembering


class Composer:
    """Composes jobs of one sweep (its config and config loader); holds the caches they share."""

    def __init__(self, config: DictConfig, loader: Any) -> None:
        self.config, self.loader = config, remembering(loader)
        self.cache: dict[Any, Any] = {}  # parsed overrides, group configs, cells

    def cell(self, overrides: list[str]) -> tuple[DictConfig, tuple]:
        """A job's config without Hydra's node, and its cell's key. The config returned is valid until the next
        call (a cell's seeds share it)."""
        cache, loader = self.cache, self.loader
        for o in overrides:
            if o not in cache:  # parsed, and whether it picks a config group
                (p,) = OverridesParser.create().parse_overrides([o])
                cache[o] = p, p.key_or_group.startswith("hydra") or group_exists(loader, p.key_or_group)
        parsed, is_group = [cache[o][0] for o in overrides], [cache[o][1] for o in overrides]
        groups = tuple(o for o, g in zip(overrides, is_group) if g)
        if groups not in cache:
            full = loader.load_sweep_config(self.config, list(groups))
            cache[groups] = OmegaConf.masked_copy(full, [k for k in full if k != "hydra"])
        values = [(o, p) for o, p, g in zip(overrides, parsed, is_group) if not g]
        seed = [p for _, p in values if p.key_or_group == "seed" and p.type == OverrideType.CHANGE]
        rest = [(o, p) for o, p in values if not (seed and p is seed[-1])]
        cell = ("cell", groups, tuple(o for o, _ in rest))
        if cell not in cache:
            cfg = copy.deepcopy(cache[groups])
            apply_overrides([p for _, p in rest], cfg)
            cache[cell] = (cfg, cfg.get("seed"))
        cfg, default_seed = cache[cell]
        if "seed" in cfg:
            cfg.seed = seed[-1].value() if seed else default_seed
        return cfg, cell

    def forcing(self, overrides: list[str]) -> tuple[list[str], tuple[DictConfig, tuple]]:
        """`cell`, with a plain `key=value` whose key the config lacks made `++key=value` (and the job's overrides so
        changed returned): the key is then checked like any other, and refused with the nearest known key if nothing
        reads it (ablation/schema.py), instead of Hydra's hint to add it with `+`."""
        while True:  # ends: each retry prefixes one more of the finitely many plain overrides
            try:
                return overrides, self.cell(overrides)
            except ConfigCompositionException as e:
                retry = forced(overrides, unknown_key(e) or "")
                if retry is None:
                    raise
                overrides = retry

    def compose(self, overrides: list[str]) -> DictConfig:
        """A job's config (valid until the next call)."""
        return self.cell(overrides)[0]
