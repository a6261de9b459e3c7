"""The answer to the asker's two proposals (a CNN encoder; more dense layers), from the encoder and depth factors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .claims import acc_text
from .labels import pct, value_name
from .select import BASELINE, where
from .stats import MeanCI, mean_ci, welch
from .verdicts import CHANCE, CHANCE_MARGIN, WORKS_ACC, sweep_command


def _effect(before: MeanCI, after: MeanCI) -> str:
    """What a change did, in words, judged by the report's named thresholds."""
    if abs(after.mean - CHANCE) <= CHANCE_MARGIN:
        return "it stays at chance"
    if after.mean >= WORKS_ACC:
        return "it works" if abs(before.mean - CHANCE) <= CHANCE_MARGIN else "it works, as it did before"
    return f"it moves to {pct(after.mean)}: above chance, below the {pct(WORKS_ACC, 0)} that counts as working"


def _p(a: pd.Series, b: pd.Series) -> str:
    t = welch(a.to_numpy(), b.to_numpy())
    return "" if np.isnan(t.p) else f" ({t.name}, p = {t.p:.2g})"


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
        text += (", so the encoder can learn the digits and the head is what decides the result." if c.mean >= WORKS_ACC
                 else ", so with this encoder no head tested works either.")
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
