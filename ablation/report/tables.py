"""The report's tables: one row per head × depth × pair order with its measured structure, prediction and verdict;
test accuracy mean ± 95 % CI over seeds per cell; the factor effects with their ANOVAs and t-tests. Pure."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from ablation.factors import COMPARED
from ablation.mechanism import CHANCE, FAILS, LEARNS as PREDICT_LEARNS, Structure, predict_cell

from .judge import (ALPHA, LEARNS, NO_BETTER, NO_INFO, NOT_MEASURED, MeanCI, Test, acc_text, judge_cell, mean_ci, p_text,
                    span, t_half, welch)
from .select import LOST, Context, around_baseline, cell_keys, context, extra_keys, measured, where
from .words import CELL, Words, factor_name, pct, plural

DIAGNOSTICS = ("train_acc", "test_acc_both_orders", "test_auc", "swap_gap", "score_std", "frac_pred_same",
               "logit_std", "interaction", "interaction_init")
EFFECT_FACTORS = COMPARED
STATS = ("acc_mean", "acc_lo", "acc_hi", *DIAGNOSTICS)
TESTS = {CHANCE: NO_INFO, PREDICT_LEARNS: LEARNS, FAILS: NO_BETTER}  # prediction → how it is judged


# ---------------------------------------------------------------- per head: structure, prediction, verdict


def structure_of(g: pd.DataFrame) -> Structure:
    """A cell's measured structure (its runs' classifications, load.structure; not measured if they disagree)."""
    kinds = set(zip(*(g[c].tolist() for c in ("additive", "symmetric", "antisymmetric"))))
    if len(kinds) != 1:
        return Structure(None, None, None)
    a, s, anti = (None if v is pd.NA or v is None else bool(v) for v in kinds.pop())
    return Structure(a, s, anti, float(g["interaction_init"].median()))


def head_table(df: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """One row per head × depth × pair order (and every other cell key that varies) of the measured runs `df`:
    structure, what the mechanism predicts for it, accuracy and AUC, and the verdict on that prediction."""
    keys = [k for k in ("head", "head._target_", "depth", "pair_order", *[c for c in CELL if c not in
                        ("head", "depth", "pair_order", "data", "epochs")]) if k in df and
            (k in ("head", "depth", "pair_order") or df[k].nunique(dropna=False) > 1)]
    used = ["additive", "symmetric", "antisymmetric", "interaction_init", "weightless", "same_high", "test_acc",
            "test_auc", "test_auc_lo", "test_auc_hi"]
    df = df[list(dict.fromkeys([*keys, *(c for c in used if c in df)]))]  # each group slices only these
    rows = []
    for lv, g in df.groupby(keys, observed=True, sort=False, dropna=False):
        lv = dict(zip(keys, lv if isinstance(lv, tuple) else (lv,)))
        s, first = structure_of(g), g.iloc[0]
        p = predict_cell(s, str(first["pair_order"]), _flag(first["weightless"]), _flag(first["same_high"]))
        ci = mean_ci(g["test_acc"])
        test = TESTS.get(p.expect)
        verdict = (judge_cell(g, test) if test else "no prediction") \
            if s.measured else NOT_MEASURED
        rows.append({**lv, "structure": s.words, "additive": s.additive, "symmetric": s.symmetric,
                     "interaction": s.interaction, "prediction": p.expect or "none", "why": p.why,
                     "test_acc": ci.mean, "acc_lo": ci.lo, "acc_hi": ci.hi, "n": ci.n,
                     "auc_min": g["test_auc"].min(), "auc_max": g["test_auc"].max(), "verdict": verdict})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    order = {k: ctx.words.levels(out[k], k) for k in ("head", "pair_order") if k in out}
    rank = lambda col: col.map({v: i for i, v in enumerate(order[col.name])}) if col.name in order else col  # noqa: E731
    return out.sort_values([k for k in ("pair_order", "head", "depth") if k in out], key=rank, kind="stable") \
        .reset_index(drop=True)


def head_table_words(t: pd.DataFrame, w: Words) -> pd.DataFrame:
    """The per-head table as people read it (plain text cells)."""
    shown = [c for c in t.columns[: t.columns.get_loc("structure")] if c != "head._target_"]
    out = w.in_words(t[shown], shown).rename(columns={c: factor_name(c) for c in shown})
    out["measured structure (at initialisation)"] = [f"{s} (interaction {i:.2g})" for s, i in zip(t["structure"], t["interaction"])]
    out["prediction"] = t["prediction"]
    out["test accuracy [95 % CI]"] = [acc_text(MeanCI(m, lo, hi, int(n))) for m, lo, hi, n in
                                      zip(t["test_acc"], t["acc_lo"], t["acc_hi"], t["n"])]
    out["ROC AUC"] = [span(a, b) for a, b in zip(t["auc_min"], t["auc_max"])]
    out["verdict"] = t["verdict"]
    return out


def _flag(v: object) -> bool:
    return False if pd.isna(v) else bool(v)


# ---------------------------------------------------------------- per cell: accuracy over seeds


def summary(runs: pd.DataFrame, cell: list[str] | None = None) -> pd.DataFrame:
    """One row per cell (every factor but the seed): n measured runs, test accuracy mean and t interval, diagnostic
    means, how many runs the cell lost (failed, diverged) and any seed it holds twice (then not averaged)."""
    cell = cell_keys(runs) if cell is None else list(cell)
    m, lost = measured(runs), runs[runs["status"].isin(LOST)]
    cols = ["n", *STATS, "failed", "diverged", "lost", "duplicate_seeds"]
    if m.empty and lost.empty:
        return pd.DataFrame(columns=[*cell, *cols])
    frame = pd.concat([m, lost])
    ok = frame["status"] == "completed"
    present = [c for c in ("test_acc", *DIAGNOSTICS) if c in frame]
    vals = frame[present].where(ok)  # a lost run's numbers never count
    work = pd.concat([frame[[*cell, "seed", "status"]], vals], axis=1).assign(
        _ok=ok.astype(int), failed=(frame["status"] == "failed").astype(int),
        diverged=(frame["status"] == "diverged").astype(int))
    g = work.groupby(cell, dropna=False, sort=False)
    out = g["test_acc"].agg(acc_mean="mean", sd="std").reset_index()
    out.insert(len(cell), "n", g["_ok"].sum().to_numpy())
    half = t_half(out["sd"], out["n"])
    out["acc_lo"], out["acc_hi"] = out["acc_mean"] - half, out["acc_mean"] + half
    out = pd.concat([out.drop(columns="sd"), g[[c for c in DIAGNOSTICS if c in work]].mean().reset_index(drop=True),
                     g[["failed", "diverged"]].sum().reset_index(drop=True)], axis=1)
    for c in DIAGNOSTICS:
        if c not in out:
            out[c] = np.nan
    out["lost"] = out["failed"] + out["diverged"]
    done = work[work["_ok"] == 1]
    per_seed = done.groupby([*cell, "seed"], dropna=False, sort=False).size()
    twice = per_seed[per_seed > 1].reset_index(name="k")
    dup: dict[tuple, list[str]] = {}
    for _, r in twice.iterrows():
        dup.setdefault(tuple(map(str, (r[c] for c in cell))), []).append(f"seed {r['seed']} ×{r['k']}")
    out["duplicate_seeds"] = ["; ".join(dup.get(tuple(map(str, k)), [])) for k in zip(*(out[c] for c in cell))]
    out.loc[out["duplicate_seeds"] != "", list(STATS)] = np.nan  # flagged, not averaged
    out = out[[*cell, *cols]]
    sortable = lambda col: col.astype("string") if col.dtype == object else col  # noqa: E731
    return out.sort_values(cell, kind="stable", key=sortable, na_position="last").reset_index(drop=True)


def cell_columns(table: pd.DataFrame) -> list[str]:
    """A summary table's cell keys: its columns before `n`."""
    return list(table.columns[: table.columns.get_loc("n")])


def runs_text(n: int, failed: int = 0, diverged: int = 0, duplicates: str = "") -> str:
    """'3 seeds', '2 seeds (1 diverged)', '0 seeds (3 failed)', '2 runs: seed 0 ×2, not averaged'."""
    if duplicates:
        return f"{n} runs: {duplicates}, not averaged"
    lost = [f"{k} {what}" for k, what in ((failed, "failed"), (diverged, "diverged")) if k]
    return plural(n, "seed") + (f" ({', '.join(lost)})" if lost else "")


def summary_words(table: pd.DataFrame, w: Words) -> pd.DataFrame:
    """The summary as people read it: settings in words, accuracies as 'mean [lo, hi]' percentages."""
    cell = cell_columns(table)
    varying = [f for f in cell if table[f].nunique(dropna=False) > 1] or ["head"]
    out = w.in_words(table[varying], varying).rename(columns={f: factor_name(f) for f in varying})
    out["seeds"] = [runs_text(int(n), int(f), int(d), dup) for n, f, d, dup in
                    zip(table["n"], table["failed"], table["diverged"], table["duplicate_seeds"])]
    out["test accuracy, 95 % CI"] = [
        "not averaged" if dup else "no run finished" if n == 0 else
        f"{pct(m)} [{pct(lo)}, {pct(hi)}]" if n > 1 else f"{pct(m)} (one seed: no CI)"
        for m, lo, hi, n, dup in zip(table["acc_mean"], table["acc_lo"], table["acc_hi"], table["n"], table["duplicate_seeds"])
    ]
    out["both input orders"] = [pct(v) for v in table["test_acc_both_orders"]]
    out["ROC AUC"] = [f"{v:.3f}" if pd.notna(v) else "n/a" for v in table["test_auc"]]
    out["interaction after training"] = [f"{v:.2g}" if pd.notna(v) else "n/a" for v in table["interaction"]]
    return out


# ---------------------------------------------------------------- factor effects


def one_way(groups: list[np.ndarray]) -> Test:
    """One-way ANOVA across groups; partial eta squared as effect size."""
    groups = [np.asarray(g, float) for g in groups if len(g)]
    n, k = sum(len(g) for g in groups), len(groups)
    if k < 2 or n - k < 1:
        return Test("one-way ANOVA", np.nan, "", np.nan)
    allv = np.concatenate(groups)
    ss_b = sum(len(g) * (g.mean() - allv.mean()) ** 2 for g in groups)
    ss_w = sum(((g - g.mean()) ** 2).sum() for g in groups)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        r = stats.f_oneway(*groups) if ss_w > 0 else None
    f, p = (float(r.statistic), float(r.pvalue)) if r is not None else (np.nan, np.nan)  # no variance: not testable
    return Test("one-way ANOVA", f, f"{k - 1}, {n - k}", p, float(ss_b / (ss_b + ss_w)) if ss_b + ss_w > 0 else np.nan)


def _dummies(codes: np.ndarray, k: int) -> np.ndarray:
    return (codes[:, None] == np.arange(1, k)[None, :]).astype(float)  # treatment coding: level 0 is the base


def _rss(X: np.ndarray, y: np.ndarray) -> tuple[float, int]:
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    r = y - X @ beta
    return float(r @ r), int(np.linalg.matrix_rank(X))


def two_way(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict[str, Test]:
    """Two-way ANOVA with interaction, type II sums of squares by least squares (nested models), so unbalanced
    designs and empty cells need no special case: {'a': ..., 'b': ..., 'a:b': ...}."""
    y = np.asarray(y, float)
    ca, la = pd.factorize(pd.Series(a), sort=True)
    cb, lb = pd.factorize(pd.Series(b), sort=True)
    one = np.ones((len(y), 1))
    A, B = _dummies(ca, len(la)), _dummies(cb, len(lb))
    AB = np.hstack([A[:, [i]] * B for i in range(A.shape[1])]) if A.size and B.size else np.zeros((len(y), 0))
    rss_a, r_a = _rss(np.hstack([one, A]), y)
    rss_b, r_b = _rss(np.hstack([one, B]), y)
    rss_ab, r_ab = _rss(np.hstack([one, A, B]), y)
    rss_full, r_full = _rss(np.hstack([one, A, B, AB]), y)
    df_res = len(y) - r_full
    out = {}
    for key, ss, df in (("a", rss_b - rss_ab, r_ab - r_b), ("b", rss_a - rss_ab, r_ab - r_a),
                        ("a:b", rss_ab - rss_full, r_full - r_ab)):
        ss = max(ss, 0.0)
        if df < 1 or df_res < 1:
            out[key] = Test("two-way ANOVA (type II)", np.nan, "", np.nan)
            continue
        if rss_full <= 1e-12 * max(1.0, float(y @ y)):  # no residual variance: not testable
            f, p = np.nan, np.nan
        else:
            f = (ss / df) / (rss_full / df_res)
            p = float(stats.f.sf(f, df, df_res))
        out[key] = Test("two-way ANOVA (type II)", float(f), f"{df}, {df_res}", p, ss / (ss + rss_full) if ss + rss_full > 0 else np.nan)
    return out


def _levels_text(df: pd.DataFrame, factor: str, w: Words) -> str:
    means = df.groupby(factor, observed=True)["test_acc"].agg(["mean", "count"])
    return "; ".join(f"{w.name(factor, lv)}: {pct(r['mean'])} (n={int(r['count'])})" for lv, r in means.iterrows())


def _cells_text(df: pd.DataFrame, factor: str, w: Words) -> str:
    """Per head, the mean at each level: what an interaction is about."""
    return "; ".join(f"{w.name('head', h)}: " + ", ".join(f"{w.name(factor, lv)} {pct(m)}" for lv, m in
                                                        g.groupby(factor, observed=True)["test_acc"].mean().items())
                     for h, g in df.groupby("head", observed=True))


def _row(effect: str, factor: str, df: pd.DataFrame, where_: str, t: Test, w: Words) -> dict:
    means = _cells_text(df, factor, w) if "interaction" in effect else _levels_text(df, factor, w)
    diff = t.name.startswith("Welch")  # a t-test's effect is a difference of means, an ANOVA's partial η²
    return {"effect": effect, "factor": factor, "runs": len(df), "where": where_, "means": means,
            "test": t.name, "statistic": t.statistic, "df": t.df, "p": t.p,
            "partial_eta_sq": np.nan if diff else t.effect, "mean_diff": t.effect if diff else np.nan}


def factor_effects(runs: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """Main effect of each factor, changed alone from the Keras setting, and its interaction with the head.

    A factor that at least two heads were run at two of its levels gets a two-way ANOVA head × factor (main effect
    and interaction); one varied for a single head gets Welch's t-test (two levels) or a one-way ANOVA; the head
    itself a one-way ANOVA across heads. Extra cell keys (`optimizer.lr`, ...) are factors too; the others stay fixed.
    """
    m, w = measured(runs), ctx.words
    extra = extra_keys(m)
    fixed = ctx.fixed if ctx.fixed else context(m, extra)
    held = {k: fixed[k] for k in extra if k in fixed}
    rows = []
    for factor in (*EFFECT_FACTORS, *extra):
        sl = where(around_baseline(m, ctx, factor), **{k: v for k, v in held.items() if k != factor})
        where_ = w.setting({k: v for k, v in {**ctx.baseline, **held}.items() if k != factor})
        if factor == "head":
            if sl["head"].nunique() >= 2:
                t = one_way([g["test_acc"].to_numpy() for _, g in sl.groupby("head", observed=True)])
                rows.append(_row("main effect of the head", "head", sl, where_, t, w))
            continue
        lv_by_head = sl.groupby("head", observed=True)[factor].agg(lambda s: frozenset(s.dropna()))
        heads = [h for h, lv in lv_by_head.items() if len(lv) >= 2]
        if not heads:
            continue
        common = frozenset.intersection(*(lv_by_head[h] for h in heads))
        if len(heads) >= 2 and len(common) >= 2:
            sub = sl[sl["head"].isin(heads) & sl[factor].isin(common)]
            res = two_way(sub["test_acc"].to_numpy(), sub["head"].to_numpy(), sub[factor].to_numpy())
            heads_txt = ", ".join(w.name("head", h) for h in sorted(heads))
            rows.append(_row(f"main effect of {factor_name(factor)}", factor, sub, f"{where_}; heads: {heads_txt}", res["b"], w))
            rows.append(_row(f"head × {factor_name(factor)} interaction", factor, sub, f"{where_}; heads: {heads_txt}",
                             res["a:b"], w))
        else:
            sub = sl[sl["head"] == heads[0]]
            groups = [g["test_acc"].to_numpy() for _, g in sub.groupby(factor, observed=True)]
            t = welch(*groups) if len(groups) == 2 else one_way(groups)
            rows.append(_row(f"main effect of {factor_name(factor)}", factor, sub,
                             f"{where_}; head: {w.name('head', heads[0])} only", t, w))
    cols = ["effect", "factor", "runs", "where", "means", "test", "statistic", "df", "p", "partial_eta_sq", "mean_diff"]
    return pd.DataFrame(rows, columns=cols)


def effects_words(table: pd.DataFrame) -> pd.DataFrame:
    """One kind of effect size per column: partial η² (ANOVA, share of variance) and the difference of means
    (Welch's t-test, in accuracy points)."""
    out = table[["effect", "where", "means", "test", "df"]].copy()
    out["statistic"] = ["" if pd.isna(v) else f"{v:.3g}" for v in table["statistic"]]
    out["p-value"] = [p_text(p).removeprefix("= ") for p in table["p"]]
    out["partial η²"] = ["" if pd.isna(v) else f"{v:.3g}" for v in table["partial_eta_sq"]]
    out["difference of means"] = ["" if pd.isna(v) else f"{100 * v:+.1f} points" for v in table["mean_diff"]]
    out["how to read it"] = reading(table)
    return out


def reading(table: pd.DataFrame) -> list[str]:
    """Per row, what keeps it from being misread: a main effect whose factor also interacts significantly with
    the head is an average over heads that the factor moves differently (the interaction row says which)."""
    inter = {r.factor: r.p for r in table.itertuples() if str(r.effect).startswith("head × ")}
    out = []
    for r in table.itertuples():
        significant = pd.notna(inter.get(r.factor)) and inter[r.factor] < ALPHA
        if str(r.effect).startswith("head × "):
            out.append(f"{factor_name(r.factor)} moves some heads and not others: see the means per head"
                       if significant else "")
        elif significant:
            out.append(f"an average over heads it moves differently: read the head × {factor_name(r.factor)} "
                       "interaction below it")
        else:
            out.append("")
    return out
