"""The claims of docs/mechanism.md, one registry: each claim is one function, registered with its number, title
and statement, that judges its checks on the measured runs of the report's context.

Claims 1-3 are sanity checks (they follow from the theorems: a run that breaks them shows a bug); 4-7 are
predictions. Heads are chosen by their measured structure (`additive`, `symmetric`, `antisymmetric`) and by what
their classes declare (`weightless`, `bounded`), loss conventions by the side of "same" (`same_high`): never by
a name. Pure: runs in, `Claim` records out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ablation.mechanism import ADDITIVE_TOL, BOUND, FIXED, SWAP_SYMMETRIC

from .judge import (CEILING_TOL, HOLDS, LEARNS, NO_BETTER, NO_INFO, NOT_MEASURED, PAIR_BALANCE_TOL, VIOLATED, Check,
                    Claim, adjust, auc_text, cells, contrast, level_check, sweep_command, with_contrasts)
from .select import Context, around_baseline, structured, where
from .words import VALUE_NAMES, pct, plural

Judge = Callable[[pd.DataFrame, Context], tuple[list[Check], list[str]]]


@dataclass(frozen=True)
class Spec:
    number: int
    title: str  # also the heading "### <number>. <title>" of docs/mechanism.md
    statement: str
    sanity: bool
    judge: Judge


CLAIMS: list[Spec] = []


def claim(number: int, title: str, statement: str, sanity: bool = False) -> Callable[[Judge], Judge]:
    """Register a claim's judging function under its number and title (the one place either is written)."""
    def register(f: Judge) -> Judge:
        CLAIMS.append(Spec(number, title, statement, sanity, f))
        return f
    return register


def check_claims(df: pd.DataFrame, ctx: Context) -> list[Claim]:
    """Every claim, judged on measured runs `df` (already at the report's context)."""
    out = []
    for spec in sorted(CLAIMS, key=lambda s: s.number):
        checks, notes = spec.judge(df, ctx)
        out.append(Claim(spec.number, spec.title, spec.statement, spec.sanity, checks, notes))
    return out


# ---------------------------------------------------------------- selections and helpers


def swap_symmetric(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["pair_order"].isin(SWAP_SYMMETRIC)]


def fixed_order(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["pair_order"].isin(FIXED)]


def heads_of(df: pd.DataFrame) -> list[str]:
    return sorted(set(df["head"].dropna()))


def run_list(df: pd.DataFrame, col: str, fmt: str = "{:.3g}") -> str:
    return ", ".join(f"{rid} ({fmt.format(v)})" for rid, v in zip(df["run_id"], df[col]))


def gap(what: str, evidence: str, ctx: Context, levels: dict | None = None, **more: Any) -> Check:
    """A check with nothing to judge: not measured, with the smallest sweep that would measure it. Without
    `levels` (the runs hold no head of the structure it needs) that is the heads no run has yet, with `more`:
    the sweep measures each one's structure before it trains."""
    if levels:
        return Check(what, NOT_MEASURED, evidence, sweep_command(levels, ctx))
    untried = ctx.words.untried("head")
    if untried:
        return Check(what, NOT_MEASURED, f"{evidence}; the heads not run yet may have that structure (the sweep "
                     "measures each one's before it trains)", sweep_command({"head": untried, **more}, ctx))
    return Check(what, NOT_MEASURED, f"{evidence}, and every head of the config was run: only a head of your own "
                 "with that structure would measure it (README: \"Your own head\")")


# ---------------------------------------------------------------- sanity checks: follow from the theorems


@claim(1, "An additive head compares nothing",
       "A head additive at initialisation stays additive after training, and of any rectangle of test images (two "
       "same pairs of two classes and their two cross pairs) it classifies at most three pairs right (theorem 1).",
       sanity=True)
def additive_compares_nothing(df: pd.DataFrame, ctx: Context) -> tuple[list[Check], list[str]]:
    add = structured(df, additive=True)
    what_i, what_r = "interaction after training at rounding level", "no rectangle of test images all right"
    if add.empty:
        ev = "no run of an additive head (measured at initialisation)"
        return [gap(what_i, ev, ctx), gap(what_r, ev, ctx)], []
    known = add[add["interaction"].notna()]  # NaN: a constant output after training, nothing left to measure
    bad = known[known["interaction"] > ADDITIVE_TOL]
    checks = [Check(what_i, VIOLATED if len(bad) else HOLDS,
                    f"largest interaction of {plural(len(add), 'additive run')}: at initialisation {add['interaction_init'].max():.2g}, "
                    f"after training {known['interaction'].max():.2g} (additive ≤ {ADDITIVE_TOL:g})"
                    + (f"; {len(add) - len(known)} with a constant output after training" if len(known) < len(add) else "")
                    + (f". Not additive after training: {run_list(bad, 'interaction')}" if len(bad) else ""))]
    rect = add[add["rectangles_all_right"].notna()]
    if rect.empty:
        checks.append(gap(what_r, "no additive run recorded its rectangles", ctx))
    else:
        bad = rect[rect["rectangles_all_right"] > 0]
        checks.append(Check(what_r, VIOLATED if len(bad) else HOLDS,
                            f"rectangles with all four pairs right: at most {pct(rect['rectangles_all_right'].max())} in "
                            f"{plural(len(rect), 'additive run')}" + (f". All right: {run_list(bad, 'rectangles_all_right')}" if len(bad) else "")))
    notes = []
    inter = structured(df, additive=False)
    inter = inter[inter["rectangles_all_right"].notna()]
    if len(inter):
        notes.append(f"For comparison, heads with an interaction term get {pct(inter['rectangles_all_right'].min())} to "
                     f"{pct(inter['rectangles_all_right'].max())} of the rectangles all right ({plural(len(inter), 'run')}), with "
                     f"interaction {inter['interaction_init'].min():.2g} to {inter['interaction_init'].max():.2g} at initialisation.")
    return checks, notes


@claim(2, "Keras pairs are swap-symmetric",
       "Under random order the pair generator makes (b, a) as likely as (a, b) with the same label: the smaller digit "
       "comes first in half of the different pairs.", sanity=True)
def pairs_are_swap_symmetric(df: pd.DataFrame, ctx: Context) -> tuple[list[Check], list[str]]:
    what = "random order: the smaller digit first in half of the different pairs"
    rnd = swap_symmetric(df)
    rnd = rnd[rnd["neg_smaller_first"].notna()]
    if rnd.empty:
        return [gap(what, "no random-order run records the order of its pairs", ctx, {"pair_order": list(SWAP_SYMMETRIC)})], []
    off = rnd[(rnd["neg_smaller_first"] - 0.5).abs() > PAIR_BALANCE_TOL]
    checks = [Check(what, VIOLATED if len(off) else HOLDS,
                    f"smaller digit first in {pct(rnd['neg_smaller_first'].min())} to {pct(rnd['neg_smaller_first'].max())} "
                    f"of the different training pairs ({plural(len(rnd), 'random-order run')}; symmetric = 50 % ± {pct(PAIR_BALANCE_TOL, 0)})"
                    + (f". Not symmetric: {run_list(off, 'neg_smaller_first')}" if len(off) else ""))]
    srt = fixed_order(df)
    srt = srt[srt["neg_smaller_first"].notna()]
    notes = [f"The control's pairs are not symmetric: smaller digit first in {pct(srt['neg_smaller_first'].mean())} of "
             f"the different pairs ({plural(len(srt), 'fixed-order run')})."] if len(srt) else []
    return checks, notes


def significantly_above(acc: pd.Series, n: pd.Series, bound: float) -> pd.Series:
    """Whether an accuracy over n pairs lies significantly (one-sided 95 %) above `bound`: beyond sampling."""
    se = np.sqrt(acc * (1 - acc) / n.clip(lower=1))
    return acc - 1.645 * se > bound


def logit_threshold(row: pd.Series) -> float:
    """The decision threshold on the quantity `swap_center` is measured in: the logit for a sigmoid head."""
    t = float(row["threshold"])
    return math.log(t / (1 - t)) if bool(row["bounded"]) and 0 < t < 1 else t


def forced(row: pd.Series) -> float:
    """For an antisymmetric head: the fraction, among the pairs the sign of c − t works against, that are wrong
    in at least one of their two orders (1.0 by theorem 3)."""
    same_side = (row["swap_center"] > logit_threshold(row)) == bool(row["same_high"])
    return row["neg_same_either_order"] if same_side else row["pos_diff_either_order"]


@claim(3, "At most 75 % on swap-symmetric pairs",
       "No additive head beats 75 % over both input orders, nor in its own order on random-order pairs (theorem 2); "
       "an antisymmetric one is held to it exactly, one of the two orders forced by the sign of c − t (theorem 3).",
       sanity=True)
def bounded_at_75(df: pd.DataFrame, ctx: Context) -> tuple[list[Check], list[str]]:
    what_b, what_f = f"additive heads: at most {pct(BOUND, 0)}", "antisymmetric heads: one order forced by the sign of c − t"
    what_x = f"antisymmetric heads: at most {pct(BOUND, 0)} over both orders, exactly"
    add = structured(df, additive=True)
    checks = []
    if add.empty:
        checks.append(gap(what_b, "no run of an additive head", ctx))
    else:
        n = add["n_test_pairs"].fillna(0)
        over = add[significantly_above(add["test_acc_both_orders"], 2 * n, BOUND)
                   | (add["pair_order"].isin(SWAP_SYMMETRIC) & significantly_above(add["test_acc"], n, BOUND))]
        rnd = swap_symmetric(add)
        checks.append(Check(what_b, VIOLATED if len(over) else HOLDS,
                            f"highest accuracy over both orders {pct(add['test_acc_both_orders'].max())} ({plural(len(add), 'run')})"
                            + (f", in their own random order {pct(rnd['test_acc'].max())} ({plural(len(rnd), 'run')})" if len(rnd) else "")
                            + " (violated only if significantly above the bound)"
                            + (f". Above: {run_list(over, 'test_acc_both_orders')}" if len(over) else "")))
    anti = structured(df, antisymmetric=True)
    anti = anti[anti["swap_center"].notna()]
    if anti.empty:
        ev = "no run of an antisymmetric head (measured at initialisation)"
        return [*checks, gap(what_f, ev, ctx), gap(what_x, ev, ctx)], []
    frac = anti.apply(forced, axis=1)
    bad = anti[frac < 1 - 1e-9]
    checks.append(Check(what_f, VIOLATED if len(bad) else HOLDS,
                        f"in {int((frac >= 1 - 1e-9).sum())} of {plural(len(anti), 'run')} every test pair of the class the sign of "
                        f"c − t works against is wrong in at least one of its two orders (lowest fraction {pct(frac.min())})"
                        + (f". Not forced: {', '.join(bad['run_id'])}" if len(bad) else "")))
    bad = anti[anti["test_acc_both_orders"] > BOUND + CEILING_TOL]
    checks.append(Check(what_x, VIOLATED if len(bad) else HOLDS,
                        f"highest accuracy over both orders {pct(anti['test_acc_both_orders'].max())} ({plural(len(anti), 'run')})"
                        + (f". Above the bound: {run_list(bad, 'test_acc_both_orders', '{:.3f}')}" if len(bad) else "")))
    srt = fixed_order(add)
    notes = [f"On pairs in a fixed order the additive heads score {pct(srt['test_acc'].mean())} in the pairs' own order on "
             f"average, {pct(srt['test_acc_both_orders'].mean())} over both orders ({plural(len(srt), 'run')})."] if len(srt) else []
    return checks, notes


# ---------------------------------------------------------------- predictions: could have gone the other way


@claim(4, "Additive heads carry no information on swap-symmetric pairs",
       "Under a loss convex in the logit, the best additive head on Keras pairs is a constant, for any encoder "
       "(theorem 4); the prediction is that training finds it, under that loss and under others, with any encoder: "
       "every run's ROC AUC at 0.5 within its interval.")
def additive_no_information(df: pd.DataFrame, ctx: Context) -> tuple[list[Check], list[str]]:
    add = swap_symmetric(structured(df, additive=True))
    enc = ctx.baseline.get("encoder")
    base, other = add[add["encoder"] == enc], add[add["encoder"] != enc]
    convex = base["loss_convex"].fillna(False).astype(bool) if "loss_convex" in base else pd.Series(False, index=base.index)
    heads = {"head": heads_of(add)} if len(add) else None
    parts = (("a loss convex in the logit: the theorem's optimum, a constant", base[convex], "loss", True),
             ("a loss not convex in the logit (the contrastive loss on a sigmoid)", base[~convex], "loss", False),
             ("another encoder does not help", other, "encoder", True))
    checks = []
    for what, runs, group, another in parts:  # another: the config's other options of `group` measure it
        if len(runs):
            checks.append(level_check(what, runs, heads or {}, ctx, NO_INFO))
        elif heads:  # the additive heads of the runs, with the config's other options of the missing factor
            checks.append(gap(what, "no additive run of this kind", ctx, {**heads, group: ctx.words.others(group)}
                              if ctx.words.others(group) else None))
        else:
            checks.append(gap(what, "no additive run on random-order pairs", ctx,
                              **({group: ctx.words.others(group)} if another and ctx.words.others(group) else {})))
    notes = []
    learn = swap_symmetric(structured(df, additive=False))  # predicted to learn: not a weightless head asked for same → high
    learn = learn[~(learn["weightless"].fillna(False).astype(bool) & learn["same_high"].fillna(False).astype(bool))]
    if len(learn):
        notes.append(f"For comparison, the heads with an interaction term that are predicted to learn, on the same pairs: "
                     f"{auc_text(learn)}; their output "
                     f"spread (std) {learn['score_std'].mean():.3f} on average, the additive heads' {add['score_std'].mean():.3f}."
                     if len(add) else f"For comparison, the heads with an interaction term that are predicted to learn: "
                     f"{auc_text(learn)}.")
    return checks, notes


CONTEXT_KEYS = ("encoder", "loss", "convention")  # what two cells must share to be compared in claim 5


def best_additive(df: pd.DataFrame) -> dict[tuple, pd.DataFrame]:
    """Per context (encoder, loss, convention), the runs of the additive cell with the highest mean accuracy:
    the one an interacting head of that context must beat."""
    pool = structured(df, additive=True)
    out = {}
    for key, g in pool.groupby(list(CONTEXT_KEYS), observed=True, sort=False):
        h, d = g.groupby(["head", "depth"], observed=True)["test_acc"].mean().idxmax()
        out[key] = g[(g["head"] == h) & (g["depth"] == d)]
    return out


@claim(5, "Interacting heads learn",
       "A head with an interaction term learns on random-order pairs: above chance, and above the best additive head "
       "of the same context; a hidden layer makes an additive merge interacting, and it then beats the same merge "
       "without one.")
def interacting_heads_learn(df: pd.DataFrame, ctx: Context) -> tuple[list[Check], list[str]]:
    rnd = swap_symmetric(around_baseline(df, ctx, "depth", "encoder", "pair_order"))
    inter = structured(rnd, additive=False)
    what_l, what_h = "every interacting head learns (random order, the Keras loss and convention)", \
        "a hidden layer after an additive merge learns, and beats the merge without one"
    if inter.empty:
        return [gap(what_l, "no run of an interacting head on random-order pairs", ctx),
                gap(what_h, "no run of a hidden layer after an additive merge", ctx, depth=[0, 1])], []
    beat, best = [], best_additive(rnd)
    for lv, g in cells(inter, ctx):
        rival = best.get(tuple(g.iloc[0][k] for k in CONTEXT_KEYS), rnd.iloc[0:0])
        if len(rival):
            beat.append(contrast(f"{ctx.setting(lv)} > {ctx.setting({'head': rival['head'].iloc[0], 'depth': rival['depth'].iloc[0]})}",
                                 rival["test_acc"], g["test_acc"]))
    # a hidden layer: the same merge (class) with depth d > 0 against depth 0, where depth 0 is additive
    deep, merge_contrasts = [], []
    flat = structured(rnd[rnd["depth"] == 0], additive=True)
    for (target, enc), g0 in flat.groupby(["head._target_", "encoder"], observed=True):
        more = inter[(inter["head._target_"] == target) & (inter["encoder"] == enc) & (inter["depth"] > 0)]
        deep.append(more)
        merge_contrasts += [contrast(f"{ctx.setting({'head': g['head'].iloc[0], 'depth': d})} > no hidden layer",
                                     g0["test_acc"], g["test_acc"]) for d, g in more.groupby("depth")]
    family = adjust(beat + merge_contrasts)
    beat, merge_contrasts = family[:len(beat)], family[len(beat):]
    checks = [with_contrasts(level_check(what_l, inter, {}, ctx, LEARNS), beat)]
    deep_runs = pd.concat(deep) if deep else inter.iloc[0:0]
    if deep_runs.empty:
        checks.append(gap(what_h, "no hidden layer after an additive merge in the runs", ctx,
                          {"head": heads_of(flat), "depth": [0, 1]} if len(flat) else None, depth=[0, 1]))
    else:
        checks.append(with_contrasts(level_check(what_h, deep_runs, {}, ctx, LEARNS), merge_contrasts))
    return checks, []


@claim(6, "A fixed order rescues additive heads that are not symmetric, and only those",
       "On pairs with the smaller digit first an additive head that is not symmetric can rank the digits and learns, "
       "beating itself on random order; a symmetric additive head still carries no information (theorem 5).")
def fixed_order_rescues(df: pd.DataFrame, ctx: Context) -> tuple[list[Check], list[str]]:
    add = structured(df, additive=True)
    asym, sym = add[add["symmetric"].eq(False).fillna(False).astype(bool)], structured(add, symmetric=True)
    what_r = "additive heads that are not symmetric learn in a fixed order, and beat random order"
    what_s = "symmetric additive heads carry no information in a fixed order either"
    checks = []
    srt = fixed_order(asym)
    if srt.empty:
        checks.append(gap(what_r, "no fixed-order run of an additive head that is not symmetric", ctx,
                          {"head": heads_of(asym), "pair_order": [*SWAP_SYMMETRIC, *FIXED]} if len(asym) else None,
                          pair_order=[*SWAP_SYMMETRIC, *FIXED]))
    else:
        cons = []
        for lv, g in cells(srt, ctx):
            same = where(swap_symmetric(asym), **{**{k: v for k, v in lv.items() if k != "pair_order"},
                                                  **{k: g[k].iloc[0] for k in ("head._target_", "encoder", "loss", "convention")}})
            cons.append(contrast(f"{ctx.setting({k: v for k, v in lv.items() if k != 'pair_order'})}: fixed > random order",
                                 same["test_acc"], g["test_acc"]))
        check = with_contrasts(level_check(what_r, srt, {}, ctx, LEARNS), adjust(cons))
        if any(c.verdict == NOT_MEASURED for c in cons) and check.verdict == NOT_MEASURED and not check.command:
            check = Check(check.what, check.verdict, check.evidence,
                          sweep_command({"head": heads_of(srt), "pair_order": list(SWAP_SYMMETRIC)}, ctx))
        checks.append(check)
    srt = fixed_order(sym)
    checks.append(level_check(what_s, srt, {}, ctx, NO_INFO) if len(srt) else
                  gap(what_s, "no fixed-order run of a symmetric additive head", ctx,
                      {"head": heads_of(sym), "pair_order": list(FIXED)} if len(sym) else None, pair_order=list(FIXED)))
    return checks, []


@claim(7, "The loss sign convention is not the cause",
       "Flipping the loss and the accuracy together does not change a head's structure: additive heads carry no "
       "information under both conventions, interacting heads with weights learn under both; a weightless distance "
       "can only work as 'same → low'.")
def convention_is_not_the_cause(df: pd.DataFrame, ctx: Context) -> tuple[list[Check], list[str]]:
    rnd = swap_symmetric(around_baseline(df, ctx, "depth", "convention", "pair_order"))
    sides = {False: "same → low", True: "same → high"}
    checks = []
    for what, runs, test in (("additive heads carry no information under both conventions",
                              structured(rnd, additive=True), NO_INFO),
                             ("interacting heads with weights learn under both conventions",
                              structured(rnd[~rnd["weightless"].fillna(False).astype(bool)], additive=False), LEARNS)):
        have = set(runs["same_high"].dropna().astype(bool))
        if have != {False, True}:
            lack = ", ".join(sides[s] for s in (False, True) if s not in have)
            checks.append(gap(what, f"no run with {lack}", ctx,
                              {"head": heads_of(runs), "convention": list(VALUE_NAMES["convention"])} if len(runs) else None,
                              convention=list(VALUE_NAMES["convention"])))
        else:
            checks.append(level_check(what, runs, {}, ctx, test))
    metric = rnd[rnd["weightless"].fillna(False).astype(bool)]
    for high, test, what in ((False, LEARNS, "a weightless head, same → low: learns"),
                             (True, NO_BETTER, "a weightless head, same → high: no better than chance")):
        runs = metric[metric["same_high"].eq(high).fillna(False).astype(bool)]
        checks.append(level_check(what, runs, {}, ctx, test) if len(runs) else
                      gap(what, f"no run of a weightless head with {sides[high]}", ctx,
                          {"head": heads_of(metric), "convention": list(VALUE_NAMES["convention"])} if len(metric) else None,
                          convention=list(VALUE_NAMES["convention"])))
    return checks, convention_note(rnd, ctx)


def convention_note(rnd: pd.DataFrame, ctx: Context) -> list[str]:
    """Why the factor effects can show a main effect of the convention beside this claim: it comes from the
    weightless heads (predicted to fail as 'same → high'), not from the heads with weights."""
    both = rnd.groupby(["head", "depth"], observed=True)["same_high"].transform(lambda x: x.dropna().nunique() == 2)
    d = rnd[both.astype(bool)]
    if d.empty or not d["weightless"].fillna(False).astype(bool).any():
        return []
    means = d.groupby(["head", "depth", "same_high"], observed=True)["test_acc"].mean().unstack("same_high")
    weightless = set(d.loc[d["weightless"].fillna(False).astype(bool), "head"])
    moved = (means[True] - means[False]).abs()
    learned = [v for (h, _), v in moved.items() if h not in weightless]
    fixed = [f"{ctx.name('head', h)} {pct(means.loc[(h, dp), False])} (same → low) and {pct(means.loc[(h, dp), True])} "
             "(same → high)" for h, dp in means.index if h in weightless]
    return [f"Averaged over heads, the convention moves the accuracy (the factor effects' main effect of the convention) "
            f"through the weightless head only: {'; '.join(fixed)}, as predicted. The heads with weights move by at most "
            f"{100 * max(learned):.1f} points: read the head × convention interaction row."] if learned else []
