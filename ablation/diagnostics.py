"""What each run measures beyond accuracy: the symmetry and collapse diagnostics of docs/mechanism.md.

All functions are pure: test-pair scores in both orders in, numbers out.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score


def predict_same(score: np.ndarray, convention: str, threshold: float = 0.5) -> np.ndarray:
    return score > threshold if convention == "similarity" else score < threshold


def auc(score: np.ndarray, same: np.ndarray, convention: str) -> float:
    """ROC AUC of telling same from different pairs, oriented so that 1.0 is perfect under the convention."""
    if len(np.unique(same)) < 2 or not np.all(np.isfinite(score)):
        return float("nan")
    return float(roc_auc_score(same, score if convention == "similarity" else -score))


def diagnose(
    s_ab: np.ndarray,
    s_ba: np.ndarray,
    same: np.ndarray,
    convention: str,
    threshold: float = 0.5,
    z_ab: np.ndarray | None = None,
    z_ba: np.ndarray | None = None,
    bias: float | None = None,
) -> dict[str, float | None]:
    """Accuracy in both input orders, swap gap, antisymmetry residual, prediction spread and collapse."""
    same = same.astype(bool)
    p_ab = predict_same(s_ab, convention, threshold)
    p_ba = predict_same(s_ba, convention, threshold)
    out: dict[str, float | None] = {
        "test_acc": float(np.mean(p_ab == same)),
        "test_acc_swapped": float(np.mean(p_ba == same)),
        # Accuracy over both orders of every pair: ≤ 75 % for an antisymmetric head (docs/mechanism.md, 3. The 75 % ceiling).
        "test_acc_both_orders": float((np.mean(p_ab == same) + np.mean(p_ba == same)) / 2),
        "test_auc": auc(s_ab, same, convention),
        "swap_gap": float(np.mean(np.abs(s_ab - s_ba))),
        "score_std": float(np.std(s_ab)),
        "frac_pred_same": float(np.mean(p_ab)),
        # Different pairs called "same" in at least one of their two orders: 1.0 for subtract depth 0 with c > 0.
        "neg_same_either_order": float(np.mean((p_ab | p_ba)[~same])) if (~same).any() else float("nan"),
        "pos_diff_either_order": float(np.mean((~p_ab | ~p_ba)[same])) if same.any() else float("nan"),
        "logit_std": None,
        "antisym_residual": None,
        "head_bias": bias,
    }
    if z_ab is not None:
        out["logit_std"] = float(np.std(z_ab))
        if bias is not None and z_ba is not None:
            # z(a,b) + z(b,a) − 2c: exactly 0 (up to float32 rounding) for a linear unit on a − b.
            out["antisym_residual"] = float(np.max(np.abs(z_ab + z_ba - 2 * bias)))
    return out


def image_views(model, x, labels: np.ndarray, batch: int = 8192):
    """Per test image, the head's 1-D view w·f(x) (docs/mechanism.md, 4. Collapse), or an empty table.

    Only a head that reduces each image to one number has such a view (subtract without a hidden layer):
    the report draws it by digit class to show the collapse and the control.
    """
    import pandas as pd
    import torch

    from . import device

    view = getattr(model.head, "view", None)
    if view is None:
        return pd.DataFrame()
    was_training = model.training
    model.eval()
    with torch.no_grad():
        parts = [view(model.encoder(x[i : i + batch])) for i in range(0, len(x), batch)]
    model.train(was_training)
    if any(p is None for p in parts) or not parts:
        return pd.DataFrame()
    v = device.to_host(torch.cat(parts)).astype(np.float64)
    return pd.DataFrame({"image": np.arange(len(v)), "label": np.asarray(labels).astype(int), "view": v})
