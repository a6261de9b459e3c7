"""DESIGN §2, claim by claim: each measurable part checked against the runs, verdict and numbers in words.

Pure: the measured runs at the common context in, `Claim` records out. A run that breaks a prediction
makes its check (and so its claim) *contradicted* and is named in the evidence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .labels import pct, setting, value_name
from .select import BASELINE, where
from .stats import MeanCI, mean_ci, welch
from .verdicts import (ANTISYM_TOL, CEILING, CEILING_TOL, CHANCE, CHANCE_MARGIN, COLLAPSE_STD, CONTRADICTED,
                       NOT_MEASURED, SUPPORTED, SWAP_TOL, SYMMETRY_TOL, WORKS_ACC, Check, Claim, sweep_command)

SYMMETRIC_HEADS = ("distance", "absdiff", "sqdiff")  # score(a,b) = score(b,a) by construction
VARIED = ("depth", "encoder", "loss", "convention", "pair_order")


def acc_text(ci: MeanCI) -> str:
    if ci.n == 0:
        return "no runs"
    if ci.n == 1:
        return f"{pct(ci.mean)} (one seed, no CI)"
    return f"{pct(ci.mean)} [95 % CI {pct(ci.lo)}, {pct(ci.hi)}], n={ci.n}"


def cells(df: pd.DataFrame) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """The runs grouped by cell; a cell's levels name the head, the depth, what varies in `df` and what is off-baseline."""
    keys = ["head", *VARIED]
    varying = {f for f in VARIED if df[f].nunique() > 1}
    out = []
    for lv, g in df.groupby(keys, observed=True, sort=True):
        levels = dict(zip(keys, lv))
        out.append(({k: v for k, v in levels.items() if k in ("head", "depth") or k in varying or BASELINE.get(k) != v}, g))
    return out


def describe(levels: dict[str, Any]) -> str:
    return setting(levels)


def _run_list(df: pd.DataFrame, col: str, fmt: str = "{:.3g}") -> str:
    return ", ".join(f"{rid} ({fmt.format(v)})" for rid, v in zip(df["run_id"], df[col]))


def _accuracy_check(what: str, df: pd.DataFrame, levels: dict, ctx: dict, test: str) -> Check:
    """Each cell of `df` must be at chance (test='chance'), work (test='works') or not work (test='fails')."""
    if df.empty:
        return Check(what, NOT_MEASURED, "no run of this setting", sweep_command(levels, ctx))
    parts, bad = [], []
    for lv, g in cells(df):
        ci = mean_ci(g["test_acc"])
        ok = {"chance": abs(ci.mean - CHANCE) <= CHANCE_MARGIN, "works": ci.mean >= WORKS_ACC,
              "fails": ci.mean <= CHANCE + CHANCE_MARGIN}[test]
        parts.append(f"{describe(lv)}: {acc_text(ci)}")
        if not ok:
            bad.append(f"{describe(lv)} (runs {', '.join(g['run_id'])})")
    evidence = "; ".join(parts)
    if bad:
        expectation = {"chance": "is not at chance", "works": "does not work", "fails": "works better than chance"}[test]
        return Check(what, CONTRADICTED, f"{evidence}. Against the prediction, {' and '.join(bad)} {expectation}.")
    return Check(what, SUPPORTED, evidence)


def claim_antisymmetry(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(1, "Antisymmetry", "With subtract and no hidden layer, z(a,b) + z(b,a) = 2c for every pair, exactly: "
              "the answer depends on the order of the inputs, while 'same digit' does not.")
    sub = where(df, head="subtract", depth=0)
    sub = sub[sub["antisym_residual"].notna()]
    if sub.empty:
        c.checks.append(Check("z(a,b) + z(b,a) = 2c", NOT_MEASURED, "no subtract run without a hidden layer",
                              sweep_command({"head": "subtract"}, ctx)))
    else:
        worst = sub["antisym_residual"].max()
        bad = sub[sub["antisym_residual"] > ANTISYM_TOL]
        ev = (f"largest |z(a,b) + z(b,a) − 2c| over the test pairs of {len(sub)} runs: {worst:.2g} "
              f"(exact up to float32 rounding if ≤ {ANTISYM_TOL:g}); output bias c from {sub['head_bias'].min():.3g} "
              f"to {sub['head_bias'].max():.3g}; mean |s(a,b) − s(b,a)| {sub['swap_gap'].mean():.3g}")
        c.checks.append(Check("z(a,b) + z(b,a) = 2c", CONTRADICTED if len(bad) else SUPPORTED,
                              ev + (f". Not antisymmetric: {_run_list(bad, 'antisym_residual')}" if len(bad) else "")))
    sym = df[df["head"].isin(SYMMETRIC_HEADS) & (df["depth"] == 0)]
    if sym.empty:
        c.checks.append(Check("a symmetric head answers the same in both orders", NOT_MEASURED, "no symmetric head run",
                              sweep_command({"head": ["distance", "absdiff"]}, ctx)))
    else:
        bad = sym[sym["swap_gap"] > SWAP_TOL]
        ev = f"largest mean |s(a,b) − s(b,a)| of {len(sym)} symmetric-head runs: {sym['swap_gap'].max():.2g}"
        c.checks.append(Check("a symmetric head answers the same in both orders", CONTRADICTED if len(bad) else SUPPORTED,
                              ev + (f". Order-dependent: {_run_list(bad, 'swap_gap')}" if len(bad) else "")))
    return c


def claim_symmetric_data(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(2, "The data is swap-symmetric", "With Keras-style pairs, (b,a) is as likely as (a,b) with the same label.")
    rnd = where(df, pair_order="random")
    rnd = rnd[rnd["neg_smaller_first"].notna()]
    if rnd.empty:
        c.checks.append(Check("random order: the smaller digit first in half of the different pairs", NOT_MEASURED,
                              "no random-order run records the order of its pairs", sweep_command({"head": "distance"}, ctx)))
    else:
        off = rnd[(rnd["neg_smaller_first"] - 0.5).abs() > SYMMETRY_TOL]
        ev = (f"smaller digit first in {pct(rnd['neg_smaller_first'].min())} to {pct(rnd['neg_smaller_first'].max())} "
              f"of the different training pairs ({len(rnd)} random-order runs; symmetric = 50 % ± {pct(SYMMETRY_TOL, 0)})")
        c.checks.append(Check("random order: the smaller digit first in half of the different pairs",
                              CONTRADICTED if len(off) else SUPPORTED,
                              ev + (f". Not symmetric: {_run_list(off, 'neg_smaller_first')}" if len(off) else "")))
    srt = where(df, pair_order="sorted")
    srt = srt[srt["neg_smaller_first"].notna()]
    if len(srt):
        c.notes.append(f"The control's pairs are not symmetric: smaller digit first in {pct(srt['neg_smaller_first'].mean())} "
                       f"of the different pairs ({len(srt)} sorted-order runs).")
    return c


def forced_fraction(row: pd.Series) -> float:
    """Pairs of the class the bias c favours in one order: c pushes one of the two orders to that answer."""
    same_side = (row["head_bias"] > 0) == (row["convention"] == "similarity")  # sign of c means "same"
    return row["neg_same_either_order"] if same_side else row["pos_diff_either_order"]


def claim_ceiling(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(3, "Ceiling of 75 %", "With c on the 'same' side, every different pair is called 'same' in at least one of "
              "its two orders (and symmetrically): the best accuracy over both orders is 75 %, not 100 %.")
    sub = where(df, head="subtract", depth=0)
    sub = sub[sub["head_bias"].notna() & (sub["head_bias"] != 0)]
    what_f, what_c = "one order is forced by the sign of c", f"accuracy over both orders ≤ {pct(CEILING, 0)}"
    if sub.empty:
        cmd = sweep_command({"head": "subtract"}, ctx)
        c.checks += [Check(what_f, NOT_MEASURED, "no subtract run without a hidden layer", cmd),
                     Check(what_c, NOT_MEASURED, "no subtract run without a hidden layer", cmd)]
        return c
    forced = sub.apply(forced_fraction, axis=1)
    bad = sub[forced < 1 - 1e-9]
    c.checks.append(Check(what_f, CONTRADICTED if len(bad) else SUPPORTED,
                          f"in {int((forced >= 1 - 1e-9).sum())} of {len(sub)} runs, every test pair of the class the sign "
                          f"of c works against is misclassified in at least one of its two orders (lowest fraction "
                          f"{pct(forced.min())})"
                          + (f". Not forced: {', '.join(bad['run_id'])}" if len(bad) else "")))
    both = sub["test_acc_both_orders"]
    bad = sub[both > CEILING + CEILING_TOL]
    parts = [f"highest accuracy over both orders: {pct(both.max())} ({len(sub)} runs)"]
    srt = sub[sub["pair_order"] == "sorted"]
    if len(srt):
        parts.append(f"the sorted-order control scores {pct(srt['test_acc'].mean())} in its own order but "
                     f"{pct(srt['test_acc_both_orders'].mean())} over both orders")
    c.checks.append(Check(what_c, CONTRADICTED if len(bad) else SUPPORTED, "; ".join(parts)
                          + (f". Above the ceiling: {_run_list(bad, 'test_acc_both_orders', '{:.3f}')}" if len(bad) else "")))
    sym = df[df["head"].isin(SYMMETRIC_HEADS) | (df["depth"] > 0)]
    if len(sym):
        best = sym.loc[sym["test_acc_both_orders"].idxmax()]
        c.notes.append(f"Heads that are not antisymmetric are not bound by it: {describe(best[['head', 'depth', 'encoder']].to_dict())} "
                       f"reaches {pct(best['test_acc_both_orders'])} over both orders.")
    return c


def _collapse_check(what: str, df: pd.DataFrame, levels: dict, ctx: dict) -> Check:
    chance = _accuracy_check(what, df, levels, ctx, "chance")
    if chance.verdict == NOT_MEASURED:
        return chance
    std, auc = df["score_std"], df["test_auc"]
    collapsed = std.max() <= COLLAPSE_STD
    ev = (f"{chance.evidence}; spread of the output over test pairs (std) {std.min():.3f}–{std.max():.3f} "
          f"(collapsed if < {COLLAPSE_STD}), ROC AUC {auc.min():.3f}–{auc.max():.3f} (0.5 = no information)")
    if chance.verdict == CONTRADICTED or not collapsed:
        flat = df[std > COLLAPSE_STD]
        extra = f". Output not collapsed: {_run_list(flat, 'score_std')}" if len(flat) else ""
        return Check(what, CONTRADICTED, ev + extra)
    return Check(what, SUPPORTED, ev)


def claim_collapse(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(4, "Collapse", "For a loss convex in z (BCE), averaging the two orders makes every non-constant w·f "
              "raise the loss, so training drives w·f to a constant and accuracy to 50 %; the encoder cannot help.")
    base = where(df, head="subtract", depth=0, pair_order="random")
    c.checks.append(_collapse_check("binary cross-entropy (convex in z): chance and a constant output",
                                    where(base, loss="bce"), {"head": "subtract", "loss": "bce",
                                                              "convention": ["distance", "similarity"]}, ctx))
    c.checks.append(_collapse_check("the asker's contrastive loss: chance and a constant output",
                                    where(base, loss="contrastive", encoder="mlp"), {"head": "subtract"}, ctx))
    c.checks.append(_collapse_check("a CNN encoder does not help", where(base, encoder="cnn"),
                                    {"head": "subtract", "encoder": "cnn"}, ctx))
    ok = df[df["head"].isin(SYMMETRIC_HEADS)]
    if len(ok):
        c.notes.append(f"For comparison, symmetric heads spread their output with std {ok['score_std'].mean():.3f} "
                       f"and reach ROC AUC {ok['test_auc'].mean():.3f} on average.")
    return c


def claim_fixes(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(5, "Fixes, and the control that proves the cause", "A head symmetric in its inputs works; so does a hidden "
              "nonlinear layer after the subtraction; and the same subtract head learns when pairs come in a fixed order.")
    base = where(df, **BASELINE)
    sym = base[base["head"].isin(SYMMETRIC_HEADS)]
    c.checks.append(_accuracy_check("symmetric heads work", sym, {"head": ["distance", "absdiff"]}, ctx, "works"))
    missing = [h for h in SYMMETRIC_HEADS if h not in set(sym["head"])]
    if len(sym) and missing:
        c.notes.append(f"Not run: {', '.join(value_name('head', h) for h in missing)} "
                       f"(`{sweep_command({'head': missing}, ctx)}`).")
    deep = where(df, **{**BASELINE, "depth": sorted(set(df["depth"].dropna()) - {0}) or [1]}, head="subtract")
    c.checks.append(_accuracy_check("a hidden layer after the subtraction works", deep,
                                    {"head": "subtract", "depth": 1}, ctx, "works"))
    sub0 = where(df, head="subtract", depth=0)
    srt = where(sub0, pair_order="sorted")
    what = "control: the same head learns on pairs in a fixed order, not on random order"
    if srt.empty:
        c.checks.append(Check(what, NOT_MEASURED, "no sorted-order run",
                              sweep_command({"head": "subtract", "pair_order": ["random", "sorted"]}, ctx)))
        return c
    parts, bad, matched = [], [], 0
    for lv, g in cells(srt):
        same = ["loss", "convention", "encoder"]
        rnd = where(sub0, pair_order="random", **{f: sorted(set(g[f])) for f in same})
        matched += len(rnd)
        a, b = mean_ci(rnd["test_acc"]), mean_ci(g["test_acc"])
        t = welch(rnd["test_acc"].to_numpy(), g["test_acc"].to_numpy())
        p = f", {t.name} p = {t.p:.2g}" if not np.isnan(t.p) else ""
        parts.append(f"{describe({k: v for k, v in lv.items() if k != 'pair_order'})}: random order {acc_text(a)} → smaller digit first {acc_text(b)}{p}")
        if b.mean < WORKS_ACC or (a.n and abs(a.mean - CHANCE) > CHANCE_MARGIN):
            bad.append(describe({k: v for k, v in lv.items() if k != "pair_order"}))
    if not matched:
        c.checks.append(Check(what, NOT_MEASURED, "; ".join(parts) + " (no matching random-order run)",
                              sweep_command({"head": "subtract", "pair_order": ["random", "sorted"]}, ctx)))
    else:
        c.checks.append(Check(what, CONTRADICTED if bad else SUPPORTED, "; ".join(parts)
                              + (f". Against the prediction: {'; '.join(bad)}" if bad else "")))
    return c


def claim_convention(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(6, "The loss sign convention is not the cause", "Subtract fails under both conventions and absdiff works "
              "under both; for the distance head only 'same → low' can work (a metric cannot put all different "
              "classes at one point).")
    conv = ["distance", "similarity"]
    for head, test, what in (("subtract", "chance", "subtract fails under both conventions"),
                             ("absdiff", "works", "absdiff works under both conventions")):
        runs = where(df, head=head, depth=0, pair_order="random", encoder="mlp")
        have = set(runs["convention"])
        if not set(conv) <= have:
            lack = [x for x in conv if x not in have]
            c.checks.append(Check(what, NOT_MEASURED, f"no run with {', '.join(value_name('convention', x) for x in lack)}",
                                  sweep_command({"head": head, "convention": lack}, ctx)))
        else:
            c.checks.append(_accuracy_check(what, runs, {"head": head}, ctx, test))
    d = where(df, head="distance", pair_order="random", encoder="mlp")
    for cv, test, what in (("distance", "works", "distance head, same → low: works"),
                           ("similarity", "fails", "distance head, same → high: no better than chance")):
        c.checks.append(_accuracy_check(what, where(d, convention=cv), {"head": "distance", "convention": cv}, ctx, test))
    return c


CLAIMS = (claim_antisymmetry, claim_symmetric_data, claim_ceiling, claim_collapse, claim_fixes, claim_convention)


def check_claims(df: pd.DataFrame, ctx: dict[str, Any]) -> list[Claim]:
    """All DESIGN §2 claims against measured runs `df` (already at the common context `ctx`)."""
    return [f(df, ctx) for f in CLAIMS]
