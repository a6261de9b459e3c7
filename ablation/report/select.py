"""Which runs answer which question: measured runs, the design's cells, the common context, slices around the
baseline and by measured structure, the user's filter and the code that made the runs.

The factors come from the runs: every key of their identity that takes two or more values among them (a key a
run does not have, like `head.hidden` for the weightless distance head, is "not applicable", not a level).
A cell is every factor but the seed, so runs that differ in anything but the seed are never pooled.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ablation import factors

from .load import RECORDED, ReportError, identity_columns
from .words import CELL, CONTEXT, FACTORS, RECIPE, SHORT, Words

# The factors of the Keras setting (their values: the config's defaults): each comparison changes one of them.
BASELINE = factors.BASELINE
LOST = ("failed", "diverged")  # runs that were meant to measure a cell and did not: counted per cell
CODES = ("current", "all")  # which runs enter the statistics: the current code's only, or every code (a factor)


@dataclass(frozen=True)
class Context:
    """What every judgement of one report shares: the setting it holds fixed (`fixed`: data, epochs and one value
    of every extra cell key) and how it names things (`words`, which also knows the config's defaults)."""

    fixed: dict[str, Any] = field(default_factory=dict)
    words: Words = field(default_factory=Words)
    extra: tuple[str, ...] = ()  # the cell's levels beyond the known factors (e.g. optimizer.lr in a learning-rate sweep)

    @property
    def baseline(self) -> dict[str, Any]:
        """The Keras setting: the config's default of each baseline factor, and the context's training recipe (an
        effect of another factor is measured under one optimizer and schedule)."""
        return {**{f: self.words.defaults[f] for f in BASELINE if f in self.words.defaults},
                **{k: self.fixed[k] for k in RECIPE if k in self.fixed}}

    def name(self, factor: str, value: object) -> str:
        return self.words.name(factor, value)

    def setting(self, levels: dict[str, object]) -> str:
        return self.words.setting(levels)


def measured(runs: pd.DataFrame) -> pd.DataFrame:
    """Completed runs with a test accuracy: the only rows any statistic is computed from."""
    return runs[(runs["status"] == "completed") & runs["test_acc"].notna()]


def recorded(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs with a record (completed, skipped, failed, diverged): what the factors are read from."""
    return runs[runs["status"].isin(RECORDED)]


def varying(runs: pd.DataFrame) -> list[str]:
    """Every key (short name or dotted) that takes at least two non-null values among the recorded runs."""
    r = recorded(runs)
    return [c for c in (*FACTORS, *identity_columns(r)) if c in r and r[c].nunique(dropna=True) >= 2]


def cell_keys(runs: pd.DataFrame) -> list[str]:
    """The levels of a cell: the known factors but the seed (CELL), then every other identity key that varies
    and is not fixed by them (`head._target_` follows `head`; `optimizer.lr` in a learning-rate sweep does not)."""
    r = recorded(runs)
    base = [c for c in CELL if c in r]
    dotted = [c for c in varying(r) if c not in FACTORS]
    if r.empty or not dotted:
        return base
    return base + [c for c in dotted if _splits(r[r[c].notna()], base, c)]


def _splits(r: pd.DataFrame, base: list[str], key: str) -> bool:
    """Does `key` take two values within one cell of `base` (among the runs that have the key)?"""
    return r.groupby([*base, key], dropna=False, sort=False).ngroups > r.groupby(base, dropna=False, sort=False).ngroups


def extra_keys(runs: pd.DataFrame) -> list[str]:
    """The cell's levels beyond the known factors (dotted keys that vary, `code` when several codes are reported)."""
    return [c for c in cell_keys(runs) if c not in CELL]


def _scalar(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def context(runs: pd.DataFrame, extra: list[str] | None = None, words: Words | None = None) -> dict[str, Any]:
    """The most common (data, epochs) among measured runs, then the most common optimizer and schedule there (the
    default where as common), then the most common value of each extra cell key: verdicts compare runs within it,
    so they never pool, say, two learning rates or two optimizers."""
    m = measured(runs)
    if m.empty:
        return {}
    counts = m.groupby(list(CONTEXT), dropna=False).size().sort_values(ascending=False, kind="stable")
    ctx = dict(zip(CONTEXT, (_scalar(v) for v in counts.index[0])))
    sub = where(m, **ctx)
    defaults = (words or Words()).defaults
    for key in (*(k for k in RECIPE if k in sub), *(extra_keys(runs) if extra is None else extra)):
        vals = sub[key].dropna()
        alone = key in RECIPE and vals.nunique() == 1 and key in defaults and str(vals.iloc[0]) != str(defaults[key])
        if vals.nunique() < 2 and not alone:  # a recipe other than the default is stated, so commands carry it
            continue
        counts = vals.value_counts()
        top = [v for v in (words or Words()).levels(vals, key) if counts[v] == counts.max()][0]  # ties: reading order
        ctx[key] = _scalar(top)
        sub = where(sub, **{key: ctx[key]})
    return ctx


def recipes(runs: pd.DataFrame, fixed: dict[str, Any], words: Words) -> list[dict[str, Any]]:
    """The training recipes (optimizer, schedule) other than the context's that have measured runs at its data
    and epochs, in reading order: the claims are judged under each of them too."""
    keys = [k for k in RECIPE if k in fixed]
    if not keys:
        return []
    m = where(measured(runs), **{k: fixed[k] for k in CONTEXT if k in fixed})
    combos = m[keys].dropna().drop_duplicates()
    order = {k: {v: i for i, v in enumerate(words.levels(combos[k], k))} for k in keys}
    rows = sorted((dict(zip(keys, map(_scalar, r))) for r in combos.itertuples(index=False)),
                  key=lambda r: tuple(order[k][r[k]] for k in keys))
    return [r for r in rows if any(r[k] != fixed[k] for k in keys)]


def _matches(col: pd.Series, values: list[Any]) -> pd.Series:
    """Equality that takes 0.003 typed by a user to equal the 0.003 in a run's identity, and "1" to equal 1."""
    mask = pd.Series(False, index=col.index)
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    for v in values:
        if numeric and isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                pass
        if numeric and isinstance(v, numbers.Number) and not isinstance(v, bool):
            mask |= pd.Series(np.isclose(col.astype(float), float(v), rtol=1e-9, atol=0), index=col.index).fillna(False)
        else:
            text = str(v).lower() if isinstance(v, bool) else str(v)
            mask |= (col.astype("string").str.lower() if pd.api.types.is_bool_dtype(col) else col.astype("string")) \
                .eq(text).fillna(False)
    return mask.astype(bool)


def where(runs: pd.DataFrame, **levels: Any) -> pd.DataFrame:
    """Rows whose factors equal the given levels (a list means any of them). Dotted keys (`**{"optimizer.lr": 1e-3}`)
    also keep the rows without that key: a key a run does not have is not applicable, not another level."""
    mask = pd.Series(True, index=runs.index)
    for f, v in levels.items():
        values = list(v) if isinstance(v, (list, tuple, set)) else [v]
        if f in FACTORS:
            mask &= runs[f].isin(values).fillna(False).astype(bool)
        else:
            mask &= _matches(runs[f], values) | runs[f].isna()
    return runs[mask]


def in_context(runs: pd.DataFrame, ctx: dict[str, Any] | None = None) -> pd.DataFrame:
    """Measured runs at the common (data, epochs), each extra cell key at its context value — or, in a cell that
    was never run at that value, at the cell's own most common one: one level per cell, no cell dropped."""
    ctx = context(runs) if ctx is None else ctx
    words = Words()
    m = where(measured(runs), **{k: v for k, v in ctx.items() if k in FACTORS})
    base = [c for c in CELL if c in m]
    for key, value in ((k, v) for k, v in ctx.items() if k not in FACTORS):
        hit = _matches(m[key], [value]) | m[key].isna()
        has = hit.groupby([m[c] for c in base], dropna=False, sort=False).transform("any")
        keep = hit & has
        for _, g in m[~has].groupby(base, dropna=False, sort=False):  # cells never run at the context value
            counts = g[key].value_counts()
            top = [v for v in words.levels(g[key], key) if counts[v] == counts.max()][0]
            keep |= m.index.isin(g.index[_matches(g[key], [top])])
        m = m[keep]
    return m


def around_baseline(runs: pd.DataFrame, ctx: Context, *free: str, **change: Any) -> pd.DataFrame:
    """Runs at the Keras setting for every baseline factor except `free` (the head and seed always free), with the
    factors in `change` at the given values instead."""
    return where(runs, **{**{f: v for f, v in ctx.baseline.items() if f not in free}, **change})


STRUCTURE = ("additive", "symmetric", "antisymmetric")  # measured at initialisation (load.tidy classifies)


def structured(runs: pd.DataFrame, **want: bool) -> pd.DataFrame:
    """Runs whose measured structure is as given (e.g. additive=True, symmetric=False); unmeasured runs never match."""
    mask = pd.Series(True, index=runs.index)
    for key, value in want.items():
        col = runs[key] if key in runs else pd.Series(pd.NA, index=runs.index, dtype="boolean")
        mask &= col.astype("boolean").eq(value).fillna(False).astype(bool)
    return runs[mask]


def filter_keys(runs: pd.DataFrame, filters: dict[str, Any]) -> dict[str, Any]:
    """The user's `where.<key>=...` with dotted aliases of the known factors (`loss.convention`) by their short
    names and None (no filter) dropped; a key no run has is a ReportError naming the keys there are."""
    known = [*FACTORS, *identity_columns(runs), "code_current", *STRUCTURE, "weightless", "bounded", "same_high"]
    out, unknown = {}, []
    for key, v in flatten(filters).items():
        if v is None:
            continue
        key = SHORT.get(key, key) if not key.endswith("._target_") else key
        (out.__setitem__(key, v) if key in runs else unknown.append(key))
    if unknown:
        keys = ", ".join(k for k in dict.fromkeys(known) if k in runs)
        raise ReportError(f"where.{unknown[0]}: no run has this key. Filter on one of: {keys}")
    return out


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'optimizer': {'lr': 0.003}} (what `where.optimizer.lr=0.003` gives) → {'optimizer.lr': 0.003}."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def apply_filter(runs: pd.DataFrame, filters: dict[str, Any]) -> pd.DataFrame:
    """The user's `where.<key>=...` selection (any factor, any dotted identity key, a trait); None means every
    value; a list means any of them. Only runs that have the key with that value are kept."""
    mask = pd.Series(True, index=runs.index)
    for f, v in filter_keys(runs, filters).items():
        mask &= _matches(runs[f], list(v) if isinstance(v, (list, tuple)) else [v])
    return runs[mask]


def by_code(runs: pd.DataFrame, code: str = "current") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs the report uses, runs it sets aside): by default the runs made by other code than the current one
    (or before runs recorded their code) are set aside; `code=all` keeps them, and `code` becomes a factor."""
    if code not in CODES:
        raise ReportError(f"code={code!r}: must be one of {', '.join(CODES)}")
    other = runs["status"].isin(RECORDED) & ~runs["code_current"].fillna(False).astype(bool)
    if code == "all":
        return runs, runs.iloc[0:0]
    return runs[~other], runs[other]


def code_listing(other: pd.DataFrame) -> pd.DataFrame:
    """The set-aside runs per code: how many, of which statuses, which heads."""
    if other.empty:
        return pd.DataFrame(columns=["code", "runs", "statuses", "heads"])
    g = other.groupby("code", dropna=False)
    return pd.DataFrame({
        "code": [str(c) for c in g.groups],
        "runs": g.size().to_numpy(),
        "statuses": g["status"].agg(lambda s: ", ".join(f"{n} {k}" for k, n in s.value_counts().items())).to_numpy(),
        "heads": g["head"].agg(lambda s: ", ".join(sorted(map(str, s.dropna().unique())))).to_numpy(),
    }).sort_values("runs", ascending=False, kind="stable").reset_index(drop=True)


def duplicated_seeds(runs: pd.DataFrame, cell: list[str]) -> pd.Series:
    """True for a measured run whose cell holds another measured run with the same seed (flagged, never averaged)."""
    m = measured(runs)
    out = pd.Series(False, index=runs.index)
    if m.empty:
        return out
    dup = m.duplicated([*cell, "seed"], keep=False)
    out.loc[dup.index] = dup.to_numpy()
    return out
