"""Words for the study's factors and values, so that plots and prose never show config keys.

The known factors have short names (`head`, `convention`, ...); every other identity key is a column named by its
dotted config key (`optimizer.lr`) and reads as `optimizer.lr=0.003`. A component reads as the label its class declares
(the runs' `head_label`, ... columns): `Words.from_runs` collects them for one report, nothing is global.
"""

from __future__ import annotations

import numbers
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ablation import factors

# The study's factors, as the report reads them (each defined once, in ablation.factors): FACTORS in the report's
# order; CELL, the known factors of a cell (select.cell_keys adds dotted keys); CONTEXT, what the verdicts hold fixed
# (the most common setting, stated in the report); RECIPE, the training recipe, under each of which the claims are
# judged apart; GROUPS, those chosen by a config group; COMPONENTS, those whose values are classes with a declared
# label; DOTTED and SHORT, the identity key behind each short name and back (component classes stay in the table as
# their dotted `_target_` columns too: two classes that share a short name are never pooled).
FACTORS, CELL, CONTEXT, RECIPE = factors.NAMES, factors.CELL, factors.CONTEXTS, factors.RECIPES
GROUPS, COMPONENTS, DOTTED, SHORT = factors.GROUPS, factors.LABELLED, factors.DOTTED, factors.SHORT
FACTOR_NAMES = factors.WORDS
VALUE_NAMES = {  # values that are not classes: what each setting means
    "convention": {"distance": "same → low score", "similarity": "same → high score"},
    "pair_order": {"random": "random order (Keras)", "sorted": "smaller digit first (control)"},
    "schedule": {"none": "constant learning rate"},
}


def plain(value: object) -> str:
    """A config value as a user types it: 0.003, 128, true, keras."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{int(value)}" if float(value).is_integer() and abs(value) < 1e15 else f"{float(value):g}"
    return str(value)


def missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def pct(x: float, digits: int = 1) -> str:
    return "n/a" if missing(x) else f"{100 * x:.{digits}f} %"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# Marks that can start markup inline (CommonMark backslash-escapes any ASCII punctuation); parentheses, dots and
# dashes are left alone, so the Markdown stays readable: without an escaped `[`, a `(` starts nothing.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~#!])")


def md_escape(text: object) -> str:
    """Text from the runs (a label, a value, a folder name) made literal in Markdown: no mark it holds is markup."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def _sort_key(v: Any) -> tuple:
    return (0, float(v), "") if isinstance(v, numbers.Number) and not isinstance(v, bool) else (1, 0.0, str(v))


@dataclass(frozen=True)
class Words:
    """How one report names things: the components' declared labels (from its runs) and the config's defaults
    (listed first among a factor's levels)."""

    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # factor → value → declared label
    defaults: dict[str, Any] = field(default_factory=dict)  # factor → the config's default value
    options: dict[str, list[str]] = field(default_factory=dict)  # config group → its options (for suggested sweeps)
    folders: dict[str, dict[str, str]] = field(default_factory=dict)  # factor → value → the --config-dir it came from

    @classmethod
    def from_runs(cls, runs: pd.DataFrame, defaults: dict[str, Any] | None = None,
                  options: dict[str, list[str]] | None = None) -> "Words":
        labels: dict[str, dict[str, str]] = {}
        for f in COMPONENTS:
            col = f"{f}_label"
            if f in runs and col in runs:
                pairs = runs[[f, col]].dropna().drop_duplicates(f)
                labels[f] = {str(v): str(lbl) for v, lbl in zip(pairs[f], pairs[col])}
        folders: dict[str, dict[str, str]] = {}
        for f in COMPONENTS:
            if f in runs and "config_dir" in runs:
                pairs = runs[[f, "config_dir"]].dropna().drop_duplicates(f)
                folders[f] = {str(v): str(d) for v, d in zip(pairs[f], pairs["config_dir"])}
        return cls(labels, dict(defaults or {}), {k: list(v) for k, v in (options or {}).items()}, folders)

    def untried(self, group: str = "head") -> list[str]:
        """The options of a config group that no run of this report has: where a structure the runs lack may be."""
        return [o for o in self.options.get(group, []) if str(o) not in self.labels.get(group, {})]

    def others(self, group: str) -> list[str]:
        """The options of a config group other than its default (what a suggested sweep tries next)."""
        return [o for o in self.options.get(group, []) if str(o) != str(self.defaults.get(group))]

    def name(self, factor: str, value: object) -> str:
        """One factor value in words, e.g. depth 0 → 'no hidden layer'; a dotted key's → 'optimizer.lr=0.003'."""
        if factor not in FACTORS:
            return f"{factor}={'n/a' if missing(value) else plain(value)}"
        if missing(value):
            return "n/a"
        if factor == "depth":
            d = int(value)  # type: ignore[arg-type]
            return "no hidden layer" if d == 0 else plural(d, "hidden layer")
        if factor == "epochs":
            return plural(int(value), "epoch")  # type: ignore[arg-type]
        v = str(value)
        return self.labels.get(factor, {}).get(v) or VALUE_NAMES.get(factor, {}).get(v, v)

    def setting(self, levels: dict[str, object]) -> str:
        """A cell in words: 'subtract a−b + dense, no hidden layer, CNN encoder'."""
        return ", ".join(self.name(f, v) for f, v in levels.items())

    def levels(self, values: object, factor: str) -> list:
        """The distinct values of a factor in reading order: the config's default first, then sorted."""
        vals = sorted(set(pd.Series(values).dropna()), key=_sort_key)
        first = [v for v in vals if factor in self.defaults and str(v) == str(self.defaults[factor])]
        return first + [v for v in vals if v not in first]

    def in_words(self, df: pd.DataFrame, factors: list[str] | tuple[str, ...]) -> pd.DataFrame:
        """A copy of `df` with the given factor columns in words (a dotted key's values as typed, 'n/a' if absent)."""
        out = df.copy()
        for f in factors:
            if f in out:
                out[f] = [self.name(f, v) if f in FACTORS else "n/a" if missing(v) else plain(v) for v in out[f]]
        return out


def factor_name(factor: str) -> str:
    """A factor in words; a dotted key stays as it is typed."""
    return FACTOR_NAMES.get(factor, factor)
