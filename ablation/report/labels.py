"""Words for the study's factors and metrics, so plots and prose never show config keys."""

from __future__ import annotations

import pandas as pd

FACTORS = ("head", "depth", "encoder", "loss", "convention", "pair_order", "data", "seed", "epochs")
CELL = tuple(f for f in FACTORS if f != "seed")  # one cell of the design = every factor but the seed
CONTEXT = ("data", "epochs")  # what the verdicts hold fixed (the most common setting, stated in the report)

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


def levels(values: object, factor: str) -> list:
    """The distinct values of a factor in reading order (known levels first, in ORDER; the rest sorted)."""
    known = ORDER.get(factor, [])
    vals = set(pd.Series(values).dropna())
    return [v for v in known if v in vals] + sorted(v for v in vals if v not in known)


def value_name(factor: str, value: object) -> str:
    """One factor value in words, e.g. depth 0 → 'no hidden layer'."""
    if factor == "depth":
        d = int(value)  # type: ignore[arg-type]
        return "no hidden layer" if d == 0 else f"{d} hidden layer{'s' if d > 1 else ''}"
    if factor == "epochs":
        return f"{value} epoch{'' if str(value) == '1' else 's'}"
    return VALUE_NAMES.get(factor, {}).get(str(value), str(value))


def in_words(df: pd.DataFrame, factors: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """A copy of `df` with the given factor columns turned into words (for plots and tables)."""
    out = df.copy()
    for f in factors:
        if f in out:
            out[f] = [value_name(f, v) for v in out[f]]
    return out


def setting(values: dict[str, object]) -> str:
    """A cell in words: 'subtract a−b + dense, no hidden layer, CNN encoder'."""
    return ", ".join(value_name(f, v) for f, v in values.items())


def pct(x: float, digits: int = 1) -> str:
    return "n/a" if pd.isna(x) else f"{100 * x:.{digits}f} %"
