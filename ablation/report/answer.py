"""The answer to the asker's two proposals (a CNN encoder; more dense layers), from the encoder and depth factors.

Judged like the claims: the 95 % CI against the named lines, one-sided Welch t-tests for the change.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .claims import acc_text
from .labels import pct, value_name
from .select import BASELINE, where
from .stats import MeanCI, mean_ci
from .verdicts import (AT_CHANCE, MIN_SEEDS, SUPPORTED, WORKS, WORKS_ACC, level, p_short, sweep_command)
from .verdicts import contrast as one_sided


def _effect(before: MeanCI, after: MeanCI) -> str:
    """What a change did, in words, judged by the CI against the report's named lines."""
    if min(before.n, after.n) < MIN_SEEDS:
        return f"not judged (n = {min(before.n, after.n)}, needs {MIN_SEEDS} seeds per setting)"
    if level(after, AT_CHANCE) == SUPPORTED:
        return "it stays at chance (its CI lies inside the chance band)"
    if level(after, WORKS) == SUPPORTED:
        was = " (as it did before)" if level(before, WORKS) == SUPPORTED else ""
        return f"it works{was}: its CI's lower bound clears {pct(WORKS_ACC, 0)}"
    return (f"it moves to {pct(after.mean)}, but its CI [{pct(after.lo)}, {pct(after.hi)}] does not clear the "
            f"{pct(WORKS_ACC, 0)} that counts as working")


def _p(a: pd.Series, b: pd.Series) -> str:
    t = one_sided("", a.to_numpy(), b.to_numpy()).test
    if np.isnan(t.p):
        return f" ({t.name}: not testable)" if min(len(a), len(b)) >= 2 else ""
    return f" ({t.name} for an increase, p = {p_short(t.p)})"


def cnn_answer(df: pd.DataFrame, ctx: dict[str, Any]) -> str:
    sub = where(df, **{**BASELINE, "encoder": ["mlp", "cnn"]}, head="subtract")
    mlp, cnn = where(sub, encoder="mlp")["test_acc"], where(sub, encoder="cnn")["test_acc"]
    if cnn.empty or mlp.empty:
        return ("**A CNN encoder?** Not measured: run "
                f"`{sweep_command({'head': 'subtract', 'encoder': ['mlp', 'cnn']}, ctx)}`.")
    a, b = mean_ci(mlp), mean_ci(cnn)
    text = (f"**A CNN encoder?** Subtract + a single dense layer scores {acc_text(a)} with the MLP encoder and "
            f"{acc_text(b)} with the CNN encoder{_p(mlp, cnn)}: {_effect(a, b)}.")
    dist = where(df, **{**BASELINE, "encoder": "cnn"}, head=["distance", "absdiff"])
    if len(dist):
        best = dist.groupby("head")["test_acc"].mean().idxmax()
        c = mean_ci(where(dist, head=best)["test_acc"])
        text += f" The same CNN encoder under a symmetric head ({value_name('head', best)}) scores {acc_text(c)}"
        v = level(c, WORKS)
        text += (", so the encoder can learn the digits and the head is what decides the result." if v == SUPPORTED
                 else f" (not judged: n = {c.n}, needs {MIN_SEEDS})." if c.n < MIN_SEEDS
                 else ", and its CI does not show that this encoder works under any head tested.")
    return text


def depth_answer(df: pd.DataFrame, ctx: dict[str, Any]) -> str:
    sub = where(df, **{k: v for k, v in BASELINE.items() if k != "depth"}, head="subtract")
    flat, deep = where(sub, depth=0)["test_acc"], sub[sub["depth"] > 0]
    if flat.empty or deep.empty:
        return ("**More dense layers?** Not measured: run "
                f"`{sweep_command({'head': 'subtract', 'depth': [0, 1]}, ctx)}`.")
    a = mean_ci(flat)
    parts = []
    for d, g in deep.groupby("depth"):
        b = mean_ci(g["test_acc"])
        parts.append(f"with {int(d)} hidden ReLU layer{'s' if d > 1 else ''} between the subtraction and the output "
                     f"it scores {acc_text(b)}{_p(flat, g['test_acc'])}: {_effect(a, b)}")
    return (f"**More dense layers?** Where they go matters. The dense layers of the encoder come before the "
            f"subtraction and do not change the head. Without a hidden layer after it, subtract scores {acc_text(a)}; "
            + "; ".join(parts) + ".")


def answers(df: pd.DataFrame, ctx: dict[str, Any]) -> list[str]:
    return [cnn_answer(df, ctx), depth_answer(df, ctx)]
