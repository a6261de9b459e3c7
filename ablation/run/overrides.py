"""Override strings (`key=value`, `+key=value`, `~key`) as Hydra's grammar reads them.

A job's overrides are handed between the planner, the launcher and the worker as strings; their keys are read by
Hydra's own parser, never split by hand, so a quoted value holding `=` or a `+`/`++`/`~` prefix means the same
here as to Hydra."""

from __future__ import annotations

from functools import lru_cache

from hydra.core.override_parser.overrides_parser import OverridesParser


@lru_cache(maxsize=None)
def _parser() -> OverridesParser:
    return OverridesParser.create()


@lru_cache(maxsize=None)
def key(override: str) -> str:
    """The key or config group an override sets: `seed` for `seed=1`, `+run_ids=[...]` or `~seed`
    (cached: a grid repeats a few override strings many times)."""
    (parsed,) = _parser().parse_overrides([override])
    return parsed.key_or_group


def without(overrides: list[str], keys: tuple[str, ...] | set[str] | frozenset[str]) -> list[str]:
    """`overrides` less those that set one of `keys`."""
    return [o for o in overrides if key(o) not in keys]


def with_values(overrides: list[str], values: list[str]) -> list[str]:
    """`overrides` with each `key=value` of `values` put in place of an override of that key, else appended."""
    new = {key(v): v for v in values}
    out = [new.pop(key(o)) if key(o) in new else o for o in overrides]
    return out + list(new.values())
