"""Summary tables: test accuracy mean ± 95 % CI over seeds per cell, and the factor effects with their tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from .labels import factor_name, in_words, pct, setting, value_name
from .select import BASELINE, LOST, around_baseline, cell_keys, context, extra_keys, measured, where
from .stats import LEVEL, Test, one_way, two_way, welch

DIAGNOSTICS = ("train_acc", "test_acc_both_orders", "test_auc", "swap_gap", "score_std", "frac_pred_same",
               "logit_std", "head_bias")
EFFECT_FACTORS = ("head", "depth", "encoder", "loss", "convention", "pair_order")


STATS = ("acc_mean", "acc_lo", "acc_hi", *DIAGNOSTICS, "antisym_residual_max")


def _sortable(col: pd.Series) -> pd.Series:
    return col.astype("string") if col.dtype == object else col


def summary(runs: pd.DataFrame, cell: list[str] | None = None) -> pd.DataFrame:
    """One row per cell (every factor but the seed; `cell_keys` by default): n measured runs, test accuracy mean
    and t interval, diagnostic means, how many runs the cell lost (failed, diverged) and any seed it holds twice.

    A cell that lost every run still has its row (n = 0). A cell with two runs of one seed is not averaged: its
    statistics are left empty and `duplicate_seeds` names the seeds.
    """
    cell = cell_keys(runs) if cell is None else list(cell)
    m, lost = measured(runs), runs[runs["status"].isin(LOST)]
    cols = ["n", *STATS, "failed", "diverged", "lost", "duplicate_seeds"]
    if m.empty and lost.empty:
        return pd.DataFrame(columns=[*cell, *cols])
    frame = pd.concat([m, lost])
    ok = frame["status"] == "completed"
    vals = frame[["test_acc", *DIAGNOSTICS, "antisym_residual"]].where(ok)  # a lost run's numbers never count
    work = pd.concat([frame[[*cell, "seed", "status"]], vals], axis=1).assign(
        _ok=ok.astype(int), failed=(frame["status"] == "failed").astype(int),
        diverged=(frame["status"] == "diverged").astype(int))
    g = work.groupby(cell, dropna=False, sort=False)
    out = g["test_acc"].agg(acc_mean="mean", sd="std").reset_index()
    out.insert(len(cell), "n", g["_ok"].sum().to_numpy())
    half = sps.t.ppf((1 + LEVEL) / 2, np.maximum(out["n"] - 1, 1)) * out["sd"] / np.sqrt(out["n"].clip(lower=1))
    out["acc_lo"], out["acc_hi"] = out["acc_mean"] - half, out["acc_mean"] + half
    out = out.drop(columns="sd")
    out = pd.concat([out, g[list(DIAGNOSTICS)].mean().reset_index(drop=True),
                     g["antisym_residual"].max().reset_index(drop=True).rename("antisym_residual_max"),
                     g[["failed", "diverged"]].sum().reset_index(drop=True)], axis=1)
    out["lost"] = out["failed"] + out["diverged"]
    done = work[work["_ok"] == 1]
    per_seed = done.groupby([*cell, "seed"], dropna=False, sort=False).size()
    twice = per_seed[per_seed > 1].reset_index(name="k")
    dup = {}
    for _, r in twice.iterrows():
        key = tuple(r[c] for c in cell)
        dup.setdefault(key, []).append(f"seed {r['seed']} ×{r['k']}")
    keys = list(zip(*(out[c] for c in cell)))
    out["duplicate_seeds"] = ["; ".join(dup.get(k, [])) for k in _match_keys(keys, dup)]
    out.loc[out["duplicate_seeds"] != "", list(STATS)] = np.nan  # flagged, not averaged
    out = out[[*cell, *cols]]
    return out.sort_values(cell, kind="stable", key=_sortable, na_position="last").reset_index(drop=True)


def _match_keys(keys: list[tuple], dup: dict[tuple, list[str]]) -> list[tuple]:
    """Cell keys as the duplicate map spells them (NaN ≠ NaN in a dict: compare as text)."""
    by_text = {tuple(map(str, k)): k for k in dup}
    return [by_text.get(tuple(map(str, k)), k) for k in keys]


def cell_columns(table: pd.DataFrame) -> list[str]:
    """A summary table's cell keys: its columns before `n`."""
    return list(table.columns[: table.columns.get_loc("n")])


def runs_text(n: int, failed: int = 0, diverged: int = 0, duplicates: str = "") -> str:
    """'3 seeds', '2 seeds (1 diverged)', '0 seeds (3 failed)', '2 runs: seed 0 ×2, not averaged'."""
    if duplicates:
        return f"{n} runs: {duplicates}, not averaged"
    text = f"{n} seed{'' if n == 1 else 's'}"
    lost = [f"{k} {what}" for k, what in ((failed, "failed"), (diverged, "diverged")) if k]
    return text + (f" ({', '.join(lost)})" if lost else "")


def summary_words(table: pd.DataFrame) -> pd.DataFrame:
    """The summary as people read it: settings in words, accuracies as 'mean [lo, hi]' percentages."""
    cell = cell_columns(table)
    varying = [f for f in cell if table[f].nunique(dropna=False) > 1] or ["head"]
    out = in_words(table[varying], varying).rename(columns={f: factor_name(f) for f in varying})
    out["seeds"] = [runs_text(int(n), int(f), int(d), dup) for n, f, d, dup in
                    zip(table["n"], table["failed"], table["diverged"], table["duplicate_seeds"])]
    out["test accuracy, 95 % CI"] = [
        "not averaged" if dup else "no run finished" if n == 0 else
        f"{pct(m)} [{pct(lo)}, {pct(hi)}]" if n > 1 else f"{pct(m)} (one seed: no CI)"
        for m, lo, hi, n, dup in zip(table["acc_mean"], table["acc_lo"], table["acc_hi"], table["n"], table["duplicate_seeds"])
    ]
    out["both input orders"] = [pct(v) for v in table["test_acc_both_orders"]]
    out["score spread"] = [f"{v:.3f}" if pd.notna(v) else "n/a" for v in table["score_std"]]
    out["swap gap"] = [f"{v:.3f}" if pd.notna(v) else "n/a" for v in table["swap_gap"]]
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
    diff = t.name.startswith("Welch")  # a t-test's effect is a difference of means, an ANOVA's partial η²
    return {"effect": effect, "factor": factor, "runs": len(df), "where": where_, "means": means,
            "test": t.name, "statistic": t.statistic, "df": t.df, "p": t.p,
            "partial_eta_sq": np.nan if diff else t.effect, "mean_diff": t.effect if diff else np.nan}


def factor_effects(runs: pd.DataFrame, ctx: dict | None = None) -> pd.DataFrame:
    """Main effect of each factor, changed alone from the Keras baseline, and its interaction with the head.

    A factor that at least two heads were run at two of its levels gets a two-way ANOVA head × factor
    (main effect and interaction); a factor varied for one head only gets Welch's t-test (two levels) or a
    one-way ANOVA. The head itself: one-way ANOVA across heads at the baseline. The factors are the known ones
    and every extra cell key (`train.lr`, ...); the other extra keys stay at `ctx` (their common value).
    """
    m = measured(runs)
    extra = extra_keys(m)
    ctx = context(m, extra) if ctx is None else ctx
    rows = []
    for factor in (*EFFECT_FACTORS, *extra):
        sl = where(around_baseline(m, factor), **{k: ctx[k] for k in extra if k != factor and k in ctx})
        if factor == "head":
            if sl["head"].nunique() >= 2:
                t = one_way([g["test_acc"].to_numpy() for _, g in sl.groupby("head", observed=True)])
                rows.append(_row("main effect of the head", "head", sl, setting({**BASELINE, **{k: ctx[k] for k in extra if k in ctx}}), t))
            continue
        lv_by_head = sl.groupby("head", observed=True)[factor].agg(lambda s: frozenset(s.dropna()))
        heads = [h for h, lv in lv_by_head.items() if len(lv) >= 2]
        if not heads:
            continue
        common = frozenset.intersection(*(lv_by_head[h] for h in heads))
        where_ = setting({k: v for k, v in {**BASELINE, **{k: ctx[k] for k in extra if k in ctx}}.items() if k != factor})
        if len(heads) >= 2 and len(common) >= 2:
            sub = sl[sl["head"].isin(heads) & sl[factor].isin(common)]
            res = two_way(sub["test_acc"].to_numpy(), sub["head"].to_numpy(), sub[factor].to_numpy())
            heads_txt = ", ".join(value_name("head", h) for h in sorted(heads))
            rows.append(_row(f"main effect of {factor_name(factor)}", factor, sub, f"{where_}; heads: {heads_txt}", res["b"]))
            rows.append(_row(f"head × {factor_name(factor)} interaction", factor, sub, f"{where_}; heads: {heads_txt}", res["a:b"]))
        else:
            h = heads[0]
            sub = sl[sl["head"] == h]
            groups = [g["test_acc"].to_numpy() for _, g in sub.groupby(factor, observed=True)]
            t = welch(*groups) if len(groups) == 2 else one_way(groups)
            rows.append(_row(f"main effect of {factor_name(factor)}", factor, sub, f"{where_}; head: {value_name('head', h)} only", t))
    cols = ["effect", "factor", "runs", "where", "means", "test", "statistic", "df", "p", "partial_eta_sq", "mean_diff"]
    return pd.DataFrame(rows, columns=cols)


def effects_words(table: pd.DataFrame) -> pd.DataFrame:
    """One kind of effect size per column: partial η² (ANOVA, share of variance) and the difference of means
    (Welch's t-test, in accuracy points)."""
    out = table[["effect", "where", "means", "test", "df"]].copy()
    out["statistic"] = [f"{v:.3g}" for v in table["statistic"]]
    out["p-value"] = [p_text(p) for p in table["p"]]
    out["partial η²"] = ["" if pd.isna(v) else f"{v:.3g}" for v in table["partial_eta_sq"]]
    out["difference of means"] = ["" if pd.isna(v) else f"{100 * v:+.1f} points" for v in table["mean_diff"]]
    return out


def p_text(p: float) -> str:
    if pd.isna(p):
        return "not testable"
    return "< 1e-6" if p < 1e-6 else f"{p:.2g}"
