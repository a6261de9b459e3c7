"""What each run measures beyond accuracy, from its test-pair scores: the order and collapse diagnostics.

All functions are pure: test-pair scores in both orders in, numbers out. The head's structure is measured on
the model itself (ablation/structure.py).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def predict_same(score: np.ndarray, convention: str, threshold: float = 0.5) -> np.ndarray:
    return score > threshold if convention == "similarity" else score < threshold


AUC_LEVEL = 0.95  # confidence level of each run's ROC AUC interval over its test pairs


def auc_ci(score: np.ndarray, same: np.ndarray, convention: str, level: float = AUC_LEVEL) -> tuple[float, float, float]:
    """ROC AUC of telling same from different pairs (1.0 = perfect under the convention) and its DeLong interval.

    The interval is over the run's test pairs (DeLong et al. 1988: the variance of the placement values), so it
    narrows with more pairs; ties count one half, so a constant output has AUC 0.5 with a zero-width interval.
    """
    same = np.asarray(same).astype(bool)
    if same.all() or not same.any() or not np.all(np.isfinite(score)):
        return float("nan"), float("nan"), float("nan")
    s = np.asarray(score, dtype=np.float64) if convention == "similarity" else -np.asarray(score, dtype=np.float64)
    pos, neg = s[same], s[~same]
    m, n = len(pos), len(neg)
    ranks = stats.rankdata(np.concatenate([pos, neg]))
    v10 = (ranks[:m] - stats.rankdata(pos)) / n  # per same pair: the fraction of different pairs it outscores
    v01 = 1.0 - (ranks[m:] - stats.rankdata(neg)) / m  # per different pair: the fraction of same pairs above it
    area = float(v10.mean())
    var = (v10.var(ddof=1) / m if m > 1 else 0.0) + (v01.var(ddof=1) / n if n > 1 else 0.0)
    half = float(stats.norm.ppf((1 + level) / 2) * np.sqrt(var))
    return area, max(0.0, area - half), min(1.0, area + half)


def diagnose(
    s_ab: np.ndarray,
    s_ba: np.ndarray,
    same: np.ndarray,
    convention: str,
    threshold: float = 0.5,
    z_ab: np.ndarray | None = None,
    z_ba: np.ndarray | None = None,
) -> dict[str, float | None]:
    """Accuracy in both input orders, ROC AUC with its interval, swap gap and centre, prediction spread, collapse."""
    same = same.astype(bool)
    p_ab = predict_same(s_ab, convention, threshold)
    p_ba = predict_same(s_ba, convention, threshold)
    area, lo, hi = auc_ci(s_ab, same, convention)
    q_ab, q_ba = (z_ab, z_ba) if z_ab is not None and z_ba is not None else (s_ab, s_ba)  # logit, else score
    return {
        "test_acc": float(np.mean(p_ab == same)),
        "test_acc_swapped": float(np.mean(p_ba == same)),
        # Accuracy over both orders of every pair: ≤ 75 % for an antisymmetric head (docs/mechanism.md, theorem 3).
        "test_acc_both_orders": float((np.mean(p_ab == same) + np.mean(p_ba == same)) / 2),
        "test_auc": area,
        "test_auc_lo": lo,
        "test_auc_hi": hi,
        "swap_gap": float(np.mean(np.abs(s_ab - s_ba))),
        # The centre c of z(a,b) + z(b,a) = 2c: one number for an antisymmetric head, whose sign forces one order.
        "swap_center": float(np.mean((q_ab + q_ba) / 2)),
        "score_std": float(np.std(s_ab)),
        "frac_pred_same": float(np.mean(p_ab)),
        # Different pairs called "same" in at least one of their two orders: 1.0 for an antisymmetric head with c > 0.
        "neg_same_either_order": float(np.mean((p_ab | p_ba)[~same])) if (~same).any() else float("nan"),
        "pos_diff_either_order": float(np.mean((~p_ab | ~p_ba)[same])) if same.any() else float("nan"),
        "logit_std": None if z_ab is None else float(np.std(z_ab)),
    }
