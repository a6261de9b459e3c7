"""Words for the study's factors and metrics, so plots and prose never show config keys.

The known factors have short names (`head`, `convention`, ...); every other identity key of a run is a column
named by its dotted config key (`train.lr`) and reads as `train.lr=0.003`. A component's value reads as the
label its class declares (the runs' `head_label`, ... traits, learnt by `register`), else as VALUE_NAMES says.
"""

from __future__ import annotations

import numbers
from typing import Any

import pandas as pd

FACTORS = ("head", "depth", "encoder", "loss", "convention", "pair_order", "data", "seed", "epochs")
CELL = tuple(f for f in FACTORS if f != "seed")  # the known factors of a cell; a report's cell adds the dotted keys that vary (select.cell_keys)
CONTEXT = ("data", "epochs")  # what the verdicts hold fixed (the most common setting, stated in the report)

# The identity key behind each short name. Component classes stay in the table as their dotted `_target_`
# columns too (two classes that share a short name are never pooled); the other keys only as the short name.
DOTTED = {"head": "head._target_", "encoder": "encoder._target_", "loss": "loss._target_", "data": "data._target_",
          "convention": "loss.convention", "pair_order": "data.pair_order", "epochs": "train.epochs",
          "depth": "depth", "seed": "seed"}
SHORT = {v: k for k, v in DOTTED.items()}  # dotted identity key → short name
COMPONENTS = ("head", "encoder", "loss", "data")  # factors whose values are classes with a declared label

FACTOR_NAMES = {
    "head": "head",
    "depth": "hidden layers after the merge",
    "encoder": "encoder",
    "loss": "loss",
    "convention": "loss sign convention",
    "pair_order": "pair order",
    "data": "data set",
    "seed": "seed",
    "epochs": "epochs",
}

VALUE_NAMES = {
    "head": {
        "distance": "Euclidean distance",
        "subtract": "subtract a−b + dense",
        "absdiff": "|a−b| + dense",
        "sqdiff": "(a−b)² + dense",
        "concat": "concatenate [a, b] + dense",
    },
    "encoder": {"mlp": "MLP encoder", "cnn": "CNN encoder"},
    "loss": {"contrastive": "contrastive loss", "bce": "binary cross-entropy"},
    "convention": {"distance": "same → low score", "similarity": "same → high score"},
    "pair_order": {"random": "random order (Keras)", "sorted": "smaller digit first (control)"},
    "data": {"mnist5k": "MNIST 5k (embedded)", "mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"},
}

METRIC_NAMES = {
    "test_acc": "test accuracy",
    "train_acc": "training accuracy",
    "test_acc_swapped": "test accuracy, inputs swapped",
    "test_acc_both_orders": "test accuracy over both input orders",
    "test_auc": "test ROC AUC",
    "swap_gap": "mean |s(a,b) − s(b,a)|",
    "score_std": "spread of the scores (std)",
    "frac_pred_same": "fraction predicted 'same'",
    "neg_same_either_order": "different pairs called 'same' in some order",
    "pos_diff_either_order": "same pairs called 'different' in some order",
    "logit_std": "spread of the logits (std)",
    "antisym_residual": "max |z(a,b) + z(b,a) − 2c|",
    "head_bias": "output bias c",
    "neg_smaller_first": "different pairs with the smaller digit first",
}


ORDER = {  # how levels are listed: the Keras baseline first
    "head": ["distance", "subtract", "absdiff", "sqdiff", "concat"],
    "encoder": ["mlp", "cnn"],
    "loss": ["contrastive", "bce"],
    "convention": ["distance", "similarity"],
    "pair_order": ["random", "sorted"],
}


LEARNT: dict[str, dict[str, str]] = {}  # factor → value → the label its class declares (from the runs' traits)


def register(runs: pd.DataFrame) -> None:
    """Learn each component's label from the runs' traits (`head_label`, ...); called once per loaded table."""
    for f in COMPONENTS:
        col = f"{f}_label"
        if f in runs and col in runs:
            pairs = runs[[f, col]].dropna().drop_duplicates(f)
            LEARNT.setdefault(f, {}).update({str(v): str(lbl) for v, lbl in zip(pairs[f], pairs[col])})


def _sort_key(v: Any) -> tuple:
    return (0, float(v), "") if isinstance(v, numbers.Number) and not isinstance(v, bool) else (1, 0.0, str(v))


def levels(values: object, factor: str) -> list:
    """The distinct values of a factor in reading order (known levels first, in ORDER; the rest sorted)."""
    known = ORDER.get(factor, [])
    vals = set(pd.Series(values).dropna())
    return [v for v in known if v in vals] + sorted((v for v in vals if v not in known), key=_sort_key)


def plain(value: object) -> str:
    """A config value as a user types it: 0.003, 128, true, keras."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{int(value)}" if float(value).is_integer() and abs(value) < 1e15 else f"{float(value):g}"
    return str(value)


def value_name(factor: str, value: object) -> str:
    """One factor value in words, e.g. depth 0 → 'no hidden layer'; a dotted key's value → 'train.lr=0.003'."""
    if factor not in FACTORS:
        return f"{factor}={'n/a' if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)) else plain(value)}"
    if factor == "depth":
        d = int(value)  # type: ignore[arg-type]
        return "no hidden layer" if d == 0 else f"{d} hidden layer{'s' if d > 1 else ''}"
    if factor == "epochs":
        return f"{value} epoch{'' if str(value) == '1' else 's'}"
    v = str(value)
    return LEARNT.get(factor, {}).get(v) or VALUE_NAMES.get(factor, {}).get(v, v)


def factor_name(factor: str) -> str:
    """A factor in words; a dotted key stays as it is typed."""
    return FACTOR_NAMES.get(factor, factor)


def in_words(df: pd.DataFrame, factors: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """A copy of `df` with the given factor columns turned into words (for plots and tables); a dotted key's
    column keeps its values as typed (its header names the key), 'n/a' where a run does not have the key."""
    out = df.copy()
    for f in factors:
        if f in out:
            out[f] = [value_name(f, v) if f in FACTORS else "n/a" if pd.isna(v) else plain(v) for v in out[f]]
    return out


def setting(values: dict[str, object]) -> str:
    """A cell in words: 'subtract a−b + dense, no hidden layer, CNN encoder'."""
    return ", ".join(value_name(f, v) for f, v in values.items())


def pct(x: float, digits: int = 1) -> str:
    return "n/a" if pd.isna(x) else f"{100 * x:.{digits}f} %"
