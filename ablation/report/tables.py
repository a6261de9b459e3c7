"""Summary tables: test accuracy mean ± 95 % CI over seeds per cell, and the factor effects with their tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from .labels import CELL, FACTOR_NAMES, in_words, pct, setting, value_name
from .select import BASELINE, around_baseline, measured
from .stats import LEVEL, Test, one_way, two_way, welch

DIAGNOSTICS = ("train_acc", "test_acc_both_orders", "test_auc", "swap_gap", "score_std", "frac_pred_same",
               "logit_std", "head_bias")
EFFECT_FACTORS = ("head", "depth", "encoder", "loss", "convention", "pair_order")


def summary(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per cell (every factor but the seed): n, test accuracy mean and t interval, diagnostic means."""
    m = measured(runs)
    cols = ["n", "acc_mean", "acc_lo", "acc_hi", *DIAGNOSTICS, "antisym_residual_max"]
    if m.empty:
        return pd.DataFrame(columns=[*CELL, *cols])
    g = m.groupby(list(CELL), dropna=False, observed=True)
    out = g["test_acc"].agg(n="count", acc_mean="mean", sd="std").reset_index()
    half = sps.t.ppf((1 + LEVEL) / 2, np.maximum(out["n"] - 1, 1)) * out["sd"] / np.sqrt(out["n"])
    out["acc_lo"], out["acc_hi"] = out["acc_mean"] - half, out["acc_mean"] + half
    out = out.drop(columns="sd")
    diag = g[list(DIAGNOSTICS)].mean().reset_index(drop=True)
    out = pd.concat([out, diag, g["antisym_residual"].max().reset_index(drop=True).rename("antisym_residual_max")], axis=1)
    return out.sort_values(list(CELL), kind="stable").reset_index(drop=True)


def summary_words(table: pd.DataFrame) -> pd.DataFrame:
    """The summary as people read it: settings in words, accuracies as 'mean [lo, hi]' percentages."""
    varying = [f for f in CELL if table[f].nunique(dropna=False) > 1] or ["head"]
    out = in_words(table[varying], varying).rename(columns=FACTOR_NAMES)
    out["seeds"] = table["n"].astype(int)
    out["test accuracy, 95 % CI"] = [
        f"{pct(m)} [{pct(lo)}, {pct(hi)}]" if n > 1 else f"{pct(m)} (one seed: no CI)"
        for m, lo, hi, n in zip(table["acc_mean"], table["acc_lo"], table["acc_hi"], table["n"])
    ]
    out["both input orders"] = [pct(v) for v in table["test_acc_both_orders"]]
    out["score spread"] = [f"{v:.3f}" for v in table["score_std"]]
    out["swap gap"] = [f"{v:.3f}" for v in table["swap_gap"]]
    return out


def _levels_text(df: pd.DataFrame, factor: str) -> str:
    means = df.groupby(factor, observed=True)["test_acc"].agg(["mean", "count"])
    return "; ".join(f"{value_name(factor, lv)}: {pct(r['mean'])} (n={int(r['count'])})" for lv, r in means.iterrows())


def _cells_text(df: pd.DataFrame, factor: str) -> str:
    """Per head, the mean at each level: what an interaction is about."""
    return "; ".join(f"{value_name('head', h)}: " + ", ".join(f"{value_name(factor, lv)} {pct(m)}" for lv, m in g.groupby(factor, observed=True)["test_acc"].mean().items())
                     for h, g in df.groupby("head", observed=True))


def _row(effect: str, factor: str, df: pd.DataFrame, where_: str, t: Test) -> dict:
    means = _cells_text(df, factor) if "interaction" in effect else _levels_text(df, factor)
    return {"effect": effect, "factor": factor, "runs": len(df), "where": where_, "means": means,
            "test": t.name, "statistic": t.statistic, "df": t.df, "p": t.p, "effect_size": t.effect}


def factor_effects(runs: pd.DataFrame) -> pd.DataFrame:
    """Main effect of each factor, changed alone from the Keras baseline, and its interaction with the head.

    A factor that at least two heads were run at two of its levels gets a two-way ANOVA head × factor
    (main effect and interaction); a factor varied for one head only gets Welch's t-test (two levels) or a
    one-way ANOVA. The head itself: one-way ANOVA across heads at the baseline.
    """
    m = measured(runs)
    rows = []
    for factor in EFFECT_FACTORS:
        sl = around_baseline(m, factor)
        if factor == "head":
            if sl["head"].nunique() >= 2:
                t = one_way([g["test_acc"].to_numpy() for _, g in sl.groupby("head", observed=True)])
                rows.append(_row("main effect of the head", "head", sl, setting({k: v for k, v in BASELINE.items()}), t))
            continue
        lv_by_head = sl.groupby("head", observed=True)[factor].agg(lambda s: frozenset(s.dropna()))
        heads = [h for h, lv in lv_by_head.items() if len(lv) >= 2]
        if not heads:
            continue
        common = frozenset.intersection(*(lv_by_head[h] for h in heads))
        where_ = setting({k: v for k, v in BASELINE.items() if k != factor})
        if len(heads) >= 2 and len(common) >= 2:
            sub = sl[sl["head"].isin(heads) & sl[factor].isin(common)]
            res = two_way(sub["test_acc"].to_numpy(), sub["head"].to_numpy(), sub[factor].to_numpy())
            heads_txt = ", ".join(value_name("head", h) for h in sorted(heads))
            rows.append(_row(f"main effect of {FACTOR_NAMES[factor]}", factor, sub, f"{where_}; heads: {heads_txt}", res["b"]))
            rows.append(_row(f"head × {FACTOR_NAMES[factor]} interaction", factor, sub, f"{where_}; heads: {heads_txt}", res["a:b"]))
        else:
            h = heads[0]
            sub = sl[sl["head"] == h]
            groups = [g["test_acc"].to_numpy() for _, g in sub.groupby(factor, observed=True)]
            t = welch(*groups) if len(groups) == 2 else one_way(groups)
            rows.append(_row(f"main effect of {FACTOR_NAMES[factor]}", factor, sub, f"{where_}; head: {value_name('head', h)} only", t))
    cols = ["effect", "factor", "runs", "where", "means", "test", "statistic", "df", "p", "effect_size"]
    return pd.DataFrame(rows, columns=cols)


def effects_words(table: pd.DataFrame) -> pd.DataFrame:
    out = table[["effect", "where", "means", "test", "df"]].copy()
    out["statistic"] = [f"{v:.3g}" for v in table["statistic"]]
    out["p-value"] = [p_text(p) for p in table["p"]]
    out["effect size"] = [f"{v:.3g}" for v in table["effect_size"]]
    return out


def p_text(p: float) -> str:
    if pd.isna(p):
        return "not testable"
    return "< 1e-6" if p < 1e-6 else f"{p:.2g}"
