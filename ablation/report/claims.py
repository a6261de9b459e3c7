"""docs/mechanism.md, claim by claim: each measurable part checked against the runs, verdict and numbers in words.

Claims 1-3 are sanity checks: they hold by construction (algebra, the pair generator), so every run must satisfy
them and a run that does not shows a bug. Claims 4-6 are predictions the runs could contradict: judged only with
MIN_SEEDS seeds in every cell they use, by 95 % confidence intervals against named lines and by one-sided Welch
t-tests for contrasts (verdicts.py). Pure: the measured runs at the common context in, `Claim` records out.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .labels import pct, setting, value_name
from .select import BASELINE, where
from .stats import MeanCI, mean_ci
from .verdicts import (ANTISYM_TOL, AT_CHANCE, CEILING, CEILING_TOL, COLLAPSE_STD, CONTRADICTED, HOLDS, INCONCLUSIVE,
                       MIN_SEEDS, NO_BETTER, NOT_MEASURED, SUPPORTED, SWAP_TOL, SYMMETRY_TOL, VIOLATED, WORKS,
                       Check, Claim, Contrast, adjust, combine, contrast, level, level_rule, sweep_command)

VARIED = ("depth", "encoder", "loss", "convention", "pair_order")

# The built-in heads' traits, used only where the runs table has no trait columns of its own.


def builtin_symmetric_heads() -> list[str]:
    """The package's own symmetric heads, as their classes declare (for 'not run' suggestions).

    Read from the source of ablation/heads.py rather than imported: importing it imports torch (~3 s),
    which the report otherwise never needs."""
    import ast
    import importlib.util
    from pathlib import Path

    tree = ast.parse(Path(importlib.util.find_spec("ablation.heads").origin).read_text())
    out = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        attrs = {t.id: a.value.value for a in cls.body if isinstance(a, ast.Assign) and isinstance(a.value, ast.Constant)
                 for t in a.targets if isinstance(t, ast.Name)}
        if attrs.get("symmetric") is True and isinstance(attrs.get("name"), str):
            out.append(attrs["name"])
    return out


def traits(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with plain boolean trait columns (the runs table's, which the classes declared); unknown = False."""
    out = df.copy()
    for col in ("symmetric", "antisymmetric", "weightless", "same_high"):
        out[col] = (out[col].astype("boolean").fillna(False) if col in out else pd.Series(False, index=out.index)).astype(bool)
    return out


def flat_antisymmetric(df: pd.DataFrame) -> pd.DataFrame:
    """Antisymmetric heads with no hidden layer: the runs whose logit satisfies z(a,b) + z(b,a) = 2c."""
    return df[df["antisymmetric"] & (df["depth"] == 0)]


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


def cell_numbers(df: pd.DataFrame) -> str:
    """Each cell's test accuracy with its CI, in words."""
    return "; ".join(f"{describe(lv)}: {acc_text(mean_ci(g['test_acc']))}" for lv, g in cells(df)) if len(df) else "no runs"


def _run_list(df: pd.DataFrame, col: str, fmt: str = "{:.3g}") -> str:
    return ", ".join(f"{rid} ({fmt.format(v)})" for rid, v in zip(df["run_id"], df[col]))


def _commands(levels: list[dict[str, Any]], ctx: dict) -> str:
    return " && ".join(dict.fromkeys(sweep_command(lv, ctx) for lv in levels))


EXPECTATION = {WORKS: "does not work", AT_CHANCE: "is not at chance", NO_BETTER: "is better than chance"}


def level_check(what: str, df: pd.DataFrame, levels: dict, ctx: dict, test: str) -> Check:
    """Every cell of `df` must pass `test` (works / at chance / no better than chance) by its 95 % CI."""
    if df.empty:
        return Check(what, NOT_MEASURED, "no run of this setting", sweep_command(levels, ctx))
    parts, bad, short, straddle = [], [], [], []
    for lv, g in cells(df):
        ci = mean_ci(g["test_acc"])
        v = level(ci, test)
        parts.append(f"{describe(lv)}: {acc_text(ci)}")
        if v == CONTRADICTED:
            bad.append(f"{describe(lv)} (runs {', '.join(g['run_id'])})")
        elif v == NOT_MEASURED:
            short.append((lv, ci.n))
        elif v == INCONCLUSIVE:
            straddle.append(describe(lv))
    evidence = "; ".join(parts) + f" ({level_rule(test)})"
    if bad:
        return Check(what, CONTRADICTED, f"{evidence}. Against the prediction, {' and '.join(bad)} {EXPECTATION[test]}.")
    if short:
        lack = ", ".join(f"{describe(lv)} (n = {n}, needs {MIN_SEEDS})" for lv, n in short)
        return Check(what, NOT_MEASURED, f"{evidence}. Too few seeds to judge: {lack}",
                     _commands([lv for lv, _ in short], ctx))
    if straddle:
        return Check(what, INCONCLUSIVE, f"{evidence}. The CI of {' and '.join(straddle)} straddles the line: "
                                         "more seeds would decide")
    return Check(what, SUPPORTED, evidence)


def with_contrasts(check: Check, contrasts: list[Contrast]) -> Check:
    """A level check that also needs its contrasts significant in the predicted direction."""
    if not contrasts:
        return check
    verdict = combine([check.verdict, *(c.verdict for c in contrasts)])
    return Check(check.what, verdict, check.evidence + ". " + "; ".join(c.text for c in contrasts), check.command)


# ---------------------------------------------------------------- sanity checks: hold by construction


def claim_antisymmetry(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(1, "Antisymmetry", "With subtract and no hidden layer, z(a,b) + z(b,a) = 2c for every pair, exactly "
              "(algebra): the answer depends on the order of the inputs, while 'same digit' does not. A symmetric "
              "head answers the same in both orders.", sanity=True)
    sub = flat_antisymmetric(df)
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
        c.checks.append(Check("z(a,b) + z(b,a) = 2c", VIOLATED if len(bad) else HOLDS,
                              ev + (f". Not antisymmetric: {_run_list(bad, 'antisym_residual')}" if len(bad) else "")))
    sym = df[df["symmetric"]]
    if sym.empty:
        c.checks.append(Check("a symmetric head answers the same in both orders", NOT_MEASURED, "no symmetric head run",
                              sweep_command({"head": ["distance", "absdiff"]}, ctx)))
    else:
        bad = sym[sym["swap_gap"] > SWAP_TOL]
        ev = f"largest mean |s(a,b) − s(b,a)| of {len(sym)} symmetric-head runs: {sym['swap_gap'].max():.2g}"
        c.checks.append(Check("a symmetric head answers the same in both orders", VIOLATED if len(bad) else HOLDS,
                              ev + (f". Order-dependent: {_run_list(bad, 'swap_gap')}" if len(bad) else "")))
    return c


def claim_symmetric_data(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(2, "The data is swap-symmetric", "With Keras-style pairs, (b,a) is as likely as (a,b) with the same "
              "label (the pair generator makes it so).", sanity=True)
    rnd = where(df, pair_order="random")
    rnd = rnd[rnd["neg_smaller_first"].notna()]
    what = "random order: the smaller digit first in half of the different pairs"
    if rnd.empty:
        c.checks.append(Check(what, NOT_MEASURED, "no random-order run records the order of its pairs",
                              sweep_command({"head": "distance"}, ctx)))
    else:
        off = rnd[(rnd["neg_smaller_first"] - 0.5).abs() > SYMMETRY_TOL]
        ev = (f"smaller digit first in {pct(rnd['neg_smaller_first'].min())} to {pct(rnd['neg_smaller_first'].max())} "
              f"of the different training pairs ({len(rnd)} random-order runs; symmetric = 50 % ± {pct(SYMMETRY_TOL, 0)})")
        c.checks.append(Check(what, VIOLATED if len(off) else HOLDS,
                              ev + (f". Not symmetric: {_run_list(off, 'neg_smaller_first')}" if len(off) else "")))
    srt = where(df, pair_order="sorted")
    srt = srt[srt["neg_smaller_first"].notna()]
    if len(srt):
        c.notes.append(f"The control's pairs are not symmetric: smaller digit first in {pct(srt['neg_smaller_first'].mean())} "
                       f"of the different pairs ({len(srt)} sorted-order runs).")
    return c


def forced_fraction(row: pd.Series) -> float:
    """Pairs of the class the bias c favours in one order: c pushes one of the two orders to that answer."""
    same_side = (row["head_bias"] > 0) == bool(row["same_high"])  # sign of c means "same"
    return row["neg_same_either_order"] if same_side else row["pos_diff_either_order"]


def claim_ceiling(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(3, "Ceiling of 75 %", "With c on the 'same' side, every different pair is called 'same' in at least one of "
              "its two orders (and symmetrically): the best accuracy over both orders is 75 %, not 100 % "
              "(follows from claim 1 on balanced pairs).", sanity=True)
    sub = flat_antisymmetric(df)
    sub = sub[sub["head_bias"].notna() & (sub["head_bias"] != 0)]
    what_f, what_c = "one order is forced by the sign of c", f"accuracy over both orders ≤ {pct(CEILING, 0)}"
    if sub.empty:
        cmd = sweep_command({"head": "subtract"}, ctx)
        c.checks.extend([Check(what_f, NOT_MEASURED, "no subtract run without a hidden layer", cmd),
                         Check(what_c, NOT_MEASURED, "no subtract run without a hidden layer", cmd)])
        return c
    forced = sub.apply(forced_fraction, axis=1)
    bad = sub[forced < 1 - 1e-9]
    c.checks.append(Check(what_f, VIOLATED if len(bad) else HOLDS,
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
    c.checks.append(Check(what_c, VIOLATED if len(bad) else HOLDS, "; ".join(parts)
                          + (f". Above the ceiling: {_run_list(bad, 'test_acc_both_orders', '{:.3f}')}" if len(bad) else "")))
    free = df[~(df["antisymmetric"] & (df["depth"] == 0))]
    if len(free):
        best = free.loc[free["test_acc_both_orders"].idxmax()]
        c.notes.append(f"Heads that are not antisymmetric are not bound by it: {describe(best[['head', 'depth', 'encoder']].to_dict())} "
                       f"reaches {pct(best['test_acc_both_orders'])} over both orders.")
    return c


# ---------------------------------------------------------------- predictions: could have gone the other way


def collapse_check(what: str, df: pd.DataFrame, levels: dict, ctx: dict) -> Check:
    """At chance by the CI in every cell, and a constant output (std below COLLAPSE_STD) in every run."""
    chance = level_check(what, df, levels, ctx, AT_CHANCE)
    if df.empty:
        return chance
    std, auc = df["score_std"], df["test_auc"]
    ev = (f"{chance.evidence}; spread of the output over test pairs (std) {std.min():.3f}–{std.max():.3f} "
          f"(collapsed if < {COLLAPSE_STD} in every run), ROC AUC {auc.min():.3f}–{auc.max():.3f} (0.5 = no information)")
    flat = df[std > COLLAPSE_STD]
    if len(flat) and chance.verdict != NOT_MEASURED:
        return Check(what, CONTRADICTED, f"{ev}. Output not collapsed: {_run_list(flat, 'score_std')}")
    return Check(what, chance.verdict, ev, chance.command)


def claim_collapse(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(4, "Collapse", "For a loss convex in z (BCE), averaging the two orders makes every non-constant w·f "
              "raise the loss, so training drives w·f to a constant and accuracy to 50 %; the encoder cannot help.")
    base = where(flat_antisymmetric(df), pair_order="random")
    c.checks.append(collapse_check("binary cross-entropy (convex in z): chance and a constant output",
                                   where(base, loss="bce"), {"head": "subtract", "loss": "bce",
                                                             "convention": ["distance", "similarity"]}, ctx))
    c.checks.append(collapse_check("the asker's contrastive loss: chance and a constant output",
                                   where(base, loss="contrastive", encoder="mlp"), {"head": "subtract"}, ctx))
    c.checks.append(collapse_check("a CNN encoder does not help", where(base, encoder="cnn"),
                                   {"head": "subtract", "encoder": "cnn"}, ctx))
    ok = df[df["symmetric"]]
    if len(ok):
        c.notes.append(f"For comparison, symmetric heads spread their output with std {ok['score_std'].mean():.3f} "
                       f"and reach ROC AUC {ok['test_auc'].mean():.3f} on average.")
    cnn = where(df[df["symmetric"]], **{**BASELINE, "encoder": "cnn"})
    if len(cnn):
        c.notes.append("The CNN encoder itself learns the digits: "
                       + "; ".join(f"{describe(lv)}: {acc_text(mean_ci(g['test_acc']))}" for lv, g in cells(cnn)) + ".")
    return c


def claim_fixes(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(5, "Fixes, and the control that proves the cause", "A head symmetric in its inputs works; so does a hidden "
              "nonlinear layer after the subtraction (relu(u) + relu(−u) = |u| can be learnt); and the same subtract "
              "head learns when pairs come in a fixed order, which breaks the data's swap symmetry.")
    base = where(df, **BASELINE)
    sym = base[base["symmetric"]]
    c.checks.append(level_check("symmetric heads work", sym, {"head": ["distance", "absdiff"]}, ctx, WORKS))
    missing = [h for h in builtin_symmetric_heads() if h not in set(sym["head"])]
    if len(sym) and missing:
        c.notes.append(f"Not run: {', '.join(value_name('head', h) for h in missing)} "
                       f"(`{sweep_command({'head': missing}, ctx)}`).")

    # The hidden layer: subtract at depth d > 0 works, and beats depth 0 (one-sided Welch, Holm within the claim).
    anti = df[df["antisymmetric"]]
    around = where(anti, **{k: v for k, v in BASELINE.items() if k != "depth"})
    flat, deep = around[around["depth"] == 0], around[around["depth"] > 0]
    depth_contrasts = [contrast(f"{value_name('depth', d)} > no hidden layer", flat["test_acc"], g["test_acc"])
                       for d, g in deep.groupby("depth")]
    # The control: sorted order works, random order is at chance, and sorted beats random, per matched setting.
    sub0 = flat_antisymmetric(df)
    srt, rnd_all = where(sub0, pair_order="sorted"), where(sub0, pair_order="random")
    control = []
    for lv, g in cells(srt):
        same = {f: sorted(set(g[f])) for f in ("loss", "convention", "encoder")}
        rnd = where(rnd_all, **same)
        name = describe({k: v for k, v in lv.items() if k not in ("pair_order", "head", "depth")}) or "Keras setting"
        control.append((lv, g, rnd, contrast(f"{name}: smaller digit first > random order", rnd["test_acc"], g["test_acc"])))
    family = adjust(depth_contrasts + [x[3] for x in control])
    depth_contrasts, control_contrasts = family[:len(depth_contrasts)], family[len(depth_contrasts):]

    hidden = level_check("a hidden layer after the subtraction works", deep, {"head": "subtract", "depth": 1}, ctx, WORKS)
    c.checks.append(with_contrasts(hidden, depth_contrasts))

    what = "control: the same head learns on pairs in a fixed order, not on random order"
    cmd = sweep_command({"head": "subtract", "pair_order": ["random", "sorted"]}, ctx)
    if srt.empty:
        c.checks.append(Check(what, NOT_MEASURED, "no sorted-order run", cmd))
        return c
    rnd_used = pd.concat([x[2] for x in control]).drop_duplicates("run_id")
    if rnd_used.empty:
        c.checks.append(Check(what, NOT_MEASURED, "no random-order run in the sorted runs' setting", cmd))
        return c
    works = level_check("sorted", srt, {"head": "subtract", "pair_order": "sorted"}, ctx, WORKS)
    chance = level_check("random", rnd_used, {"head": "subtract"}, ctx, AT_CHANCE)
    verdict = combine([works.verdict, chance.verdict, *(x.verdict for x in control_contrasts)])
    evidence = (f"smaller digit first — {works.evidence}; random order — {chance.evidence}. "
                + "; ".join(x.text for x in control_contrasts))
    c.checks.append(Check(what, verdict, evidence, works.command or chance.command))
    return c


def claim_convention(df: pd.DataFrame, ctx: dict) -> Claim:
    c = Claim(6, "The loss sign convention is not the cause", "Subtract fails under both conventions and |a−b| + dense "
              "works under both; for the distance head only 'same → low' can work (a metric cannot put all different "
              "classes at one point).")
    conv = ["distance", "similarity"]
    around = where(df, depth=0, pair_order="random", encoder="mlp")
    for sel, head, test, what in ((around["antisymmetric"], "subtract", AT_CHANCE, "subtract fails under both conventions"),
                                  (around["symmetric"] & ~around["weightless"], "absdiff", WORKS,
                                   "|a−b| + dense (symmetric, learned) works under both conventions")):
        runs = around[sel]
        have = set(runs["convention"])
        if not set(conv) <= have:
            lack = [x for x in conv if x not in have]
            c.checks.append(Check(what, NOT_MEASURED, f"no run with {', '.join(value_name('convention', x) for x in lack)}",
                                  sweep_command({"head": head, "convention": lack}, ctx)))
        else:
            c.checks.append(level_check(what, runs, {"head": head}, ctx, test))
    d = around[around["weightless"] & around["symmetric"]]
    for cv, test, what in (("distance", WORKS, "distance head, same → low: works"),
                           ("similarity", NO_BETTER, "distance head, same → high: no better than chance")):
        c.checks.append(level_check(what, where(d, convention=cv), {"head": "distance", "convention": cv}, ctx, test))
    return c


SANITY = (claim_antisymmetry, claim_symmetric_data, claim_ceiling)
PREDICTIONS = (claim_collapse, claim_fixes, claim_convention)
CLAIMS = SANITY + PREDICTIONS


def check_claims(df: pd.DataFrame, ctx: dict[str, Any]) -> list[Claim]:
    """Every claim of docs/mechanism.md against measured runs `df` (already at the common context `ctx`)."""
    df = traits(df)
    return [f(df, ctx) for f in CLAIMS]
