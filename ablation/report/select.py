"""Which runs answer which question: measured runs, the common context, and slices around the baseline."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .labels import CONTEXT

# The Keras example's setting: every comparison changes one factor (and the head) away from it.
BASELINE: dict[str, Any] = {"depth": 0, "encoder": "mlp", "loss": "contrastive", "convention": "distance", "pair_order": "random"}


def measured(runs: pd.DataFrame) -> pd.DataFrame:
    """Completed runs with a test accuracy: the only rows any statistic is computed from."""
    return runs[(runs["status"] == "completed") & runs["test_acc"].notna()]


def context(runs: pd.DataFrame) -> dict[str, Any]:
    """The most common (data, epochs) among measured runs: verdicts and plots compare runs within it."""
    m = measured(runs)
    if m.empty:
        return {}
    counts = m.groupby(list(CONTEXT), dropna=False).size().sort_values(ascending=False, kind="stable")
    return dict(zip(CONTEXT, (v.item() if hasattr(v, "item") else v for v in counts.index[0])))


def where(runs: pd.DataFrame, **levels: Any) -> pd.DataFrame:
    """Rows whose factors equal the given levels (a list means any of them)."""
    mask = pd.Series(True, index=runs.index)
    for f, v in levels.items():
        mask &= runs[f].isin(v if isinstance(v, (list, tuple, set)) else [v]).fillna(False)
    return runs[mask]


def in_context(runs: pd.DataFrame) -> pd.DataFrame:
    """Measured runs at the common (data, epochs)."""
    return where(measured(runs), **context(runs))


def around_baseline(runs: pd.DataFrame, *free: str) -> pd.DataFrame:
    """Runs at the baseline for every factor except `free` (and the head and seed, always free)."""
    return where(runs, **{f: v for f, v in BASELINE.items() if f not in free})


def apply_filter(runs: pd.DataFrame, filters: dict[str, Any]) -> pd.DataFrame:
    """The user's `where.<factor>=...` selection; None means every value. Values compare as text."""
    mask = pd.Series(True, index=runs.index)
    for f, v in filters.items():
        if v is None:
            continue
        wanted = {str(x) for x in (v if isinstance(v, (list, tuple)) else [v])}
        mask &= runs[f].astype("string").isin(wanted).fillna(False)
    return runs[mask]
