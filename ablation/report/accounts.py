"""The accounts the report decides between (docs/mechanism.md, "Accounts the report decides between"): the thread's
answer, the asker's two ideas, "a symmetric head is enough" and "an interaction term is needed" (additivity).

Each account predicts something about runs the study has; each prediction is judged like a claim, beside what
additivity predicts for the same runs. Heads are picked by measured structure and declared traits. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ablation.mechanism import FIXED, SYMMETRY_TOL

from .claims import fixed_order, swap_symmetric
from .judge import (CONTRADICTED, LEARNS, NO_BETTER, NO_INFO, NOT_MEASURED, SUPPORTED, Check, Contrast, adjust, cell_numbers,
                    combine, contrast, level_check, rule, sweep_command, with_contrasts)
from .select import Context, around_baseline, structured


@dataclass(frozen=True)
class Prediction:
    what: str  # what the account predicts, in words
    runs: str  # which runs it is judged on (their measured structure), in words
    account: Check  # the account's prediction judged on the runs
    additivity: Check | None = None  # what additivity predicts for the same runs, judged
    contrast: Contrast | None = None  # a comparison that says how confidently the runs decide
    numbers: str = ""  # the runs' test accuracies with their CIs


@dataclass(frozen=True)
class Account:
    key: str
    source: str  # who holds it
    statement: str
    predictions: list[Prediction] = field(default_factory=list)
    ours: bool = False  # the account docs/mechanism.md argues for

    @property
    def verdict(self) -> str:
        """Contradicted if any prediction is; supported only if every prediction is."""
        return combine([p.account.verdict for p in self.predictions])


def _pred(what: str, runs_words: str, runs: pd.DataFrame, ctx: Context, test: str, ours: str | None,
          con: Contrast | None = None, levels: dict | None = None) -> Prediction:
    """One prediction: the account's level test on `runs`, and additivity's (`ours`) on the same runs; a contrast
    is evidence for both and decides for additivity, which predicts the gain. `levels`: what a sweep that
    measures it runs (the heads of the runs' structure, with the factor it needs), when it is not measured."""
    account = level_check(what, runs, levels or {}, ctx, test)
    if con is not None:
        account = Check(account.what, account.verdict, account.evidence + ". " + con.text, account.command)
    additivity = level_check(what, runs, levels or {}, ctx, ours) if ours else None
    if additivity is not None and con is not None:
        additivity = with_contrasts(additivity, [con])
    return Prediction(what, runs_words, account, additivity, con, cell_numbers(runs, ctx))


def _vanishing(df: pd.DataFrame) -> pd.DataFrame:
    """Heads whose answer for identical inputs is one constant (measured: z(a,a) does not vary): the merge is
    zero for a same pair, as a − b, |a − b| and (a − b)² are."""
    return df[df["identical_spread_init"].le(SYMMETRY_TOL).fillna(False).astype(bool)]


def _heads(df: pd.DataFrame, **more: object) -> dict:
    """A sweep's levels: the heads of these runs (none if there are no runs) and `more`."""
    return {**({"head": sorted(set(df["head"].dropna()))} if len(df) else {}), **more}


def _learned(df: pd.DataFrame) -> pd.DataFrame:
    return df[~df["weightless"].fillna(False).astype(bool)]


def _keras(df: pd.DataFrame, ctx: Context, *free: str) -> pd.DataFrame:
    """The Keras setting but for the depth and the pair order (which the accounts' predictions select by)."""
    return around_baseline(df, ctx, "depth", "pair_order", *free)


def accounts(df: pd.DataFrame, ctx: Context) -> list[Account]:
    """The five accounts with their predictions judged on `df` (measured runs at the report's context)."""
    rnd, srt = swap_symmetric(df), fixed_order(df)
    add_rnd, add_srt = structured(rnd, additive=True), structured(srt, additive=True)
    keras_add = _keras(add_rnd, ctx)
    zero_inter = _keras(structured(_learned(_vanishing(rnd[rnd["depth"] == 0])), additive=False), ctx)
    zero_add = _keras(_vanishing(add_rnd), ctx)
    zero_sorted = _keras(structured(_vanishing(add_srt), symmetric=False), ctx)
    same_low = keras_add[keras_add["same_high"].eq(False).fillna(False).astype(bool)]
    flipped = _keras(structured(_learned(rnd), additive=False), ctx, "convention")
    flipped = flipped[flipped["same_high"].eq(True).fillna(False).astype(bool)]
    enc = ctx.baseline.get("encoder")
    other_enc = _keras(add_rnd, ctx, "encoder")
    other_enc, same_enc = other_enc[other_enc["encoder"] != enc], other_enc[other_enc["encoder"] == enc]
    sym_add, sym_add_srt = _keras(structured(add_rnd, symmetric=True), ctx), _keras(structured(add_srt, symmetric=True), ctx)
    asym_srt = _keras(add_srt[add_srt["symmetric"].eq(False).fillna(False).astype(bool)], ctx)
    inter = _keras(structured(rnd, additive=False), ctx)

    zero_vs, sorted_vs, enc_vs = adjust([
        contrast("identical-input-zero heads with an interaction term > without", zero_add["test_acc"], zero_inter["test_acc"]),
        contrast("fixed order > random order (additive identical-input-zero heads)",
                 zero_add[zero_add["symmetric"].eq(False).fillna(False).astype(bool)]["test_acc"], zero_sorted["test_acc"]),
        contrast("another encoder > the default encoder (additive heads)", same_enc["test_acc"], other_enc["test_acc"]),
    ])
    answer = Account(
        "a", "the answer in the thread",
        "for a same pair a − b ≈ 0, and one dense unit cannot make a high response from zeros",
        [_pred("a head whose merge is zero for identical inputs fails without a hidden layer, with an interaction term too",
               "learned heads with z(a,a) constant and an interaction term, no hidden layer", zero_inter, ctx, NO_BETTER,
               LEARNS, zero_vs),
         _pred("such a head fails on pairs in a fixed order too, since its merge is still zero for same pairs",
               "additive heads with z(a,a) constant that are not symmetric, fixed order", zero_sorted, ctx, NO_BETTER,
               LEARNS, sorted_vs, _heads(zero_add[zero_add["symmetric"].eq(False).fillna(False).astype(bool)],
                                         pair_order=list(FIXED)))])
    asker = Account(
        "b", "the asker", "the flipped loss and accuracy (same → high score) are the problem",
        [_pred("additive heads work under the standard convention (same → low score)", "additive heads, same → low",
               same_low, ctx, LEARNS, NO_INFO, levels=_heads(keras_add, convention=["distance"])),
         _pred("heads that work fail under the flipped convention (same → high score)",
               "learned heads with an interaction term, same → high", flipped, ctx, NO_BETTER, LEARNS,
               levels=_heads(_keras(structured(_learned(rnd), additive=False), ctx), convention=["similarity"]))])
    gain = "another encoder raises the additive heads' accuracy"
    cnn = Account(
        "c", "the asker's first proposal", "a CNN encoder (another encoder) would fix it",
        [_pred("additive heads learn with another encoder", "additive heads, not the default encoder", other_enc, ctx,
               LEARNS, NO_INFO, levels=_heads(keras_add, encoder=ctx.words.others("encoder"))),
         Prediction(gain, "additive heads, each encoder",
                    Check(gain, enc_vs.verdict, enc_vs.text, sweep_command(_heads(keras_add, encoder=[enc, *ctx.words.others(
                        "encoder")]), ctx) if enc_vs.verdict == NOT_MEASURED and len(keras_add) else None),
                    None, enc_vs, enc_vs.text)])
    symmetric = Account(
        "d", "a common fix", "a head symmetric in its two inputs is enough",
        [_pred("every symmetric head learns, additive ones included", "symmetric additive heads, random order", sym_add,
               ctx, LEARNS, NO_INFO),
         _pred("every symmetric head learns in a fixed order as well", "symmetric additive heads, fixed order", sym_add_srt, ctx, LEARNS, NO_INFO,
               levels=_heads(sym_add, pair_order=list(FIXED)))])
    interaction = Account(
        "e", "additivity (docs/mechanism.md)", "an interaction term is needed: additive heads compare nothing",
        [_pred("additive heads carry no information on swap-symmetric pairs", "additive heads, random order", keras_add,
               ctx, NO_INFO, None),
         _pred("a fixed order rescues additive heads that are not symmetric", "non-symmetric additive heads, fixed order",
               asym_srt, ctx, LEARNS, None, levels=_heads(keras_add[keras_add["symmetric"].eq(False).fillna(False).astype(bool)],
                                                          pair_order=list(FIXED))),
         _pred("a fixed order does not rescue symmetric additive heads", "symmetric additive heads, fixed order", sym_add_srt, ctx, NO_INFO, None,
               levels=_heads(sym_add, pair_order=list(FIXED))),
         _pred("every head with an interaction term learns", "interacting heads, random order", inter, ctx, LEARNS, None)],
        ours=True)
    return [answer, asker, cnn, symmetric, interaction]


def additivity_verdict(accs: list[Account]) -> str:
    """What additivity's predictions on the rivals' runs and its own come to."""
    mine = [p.account.verdict for a in accs if a.ours for p in a.predictions]
    theirs = [p.additivity.verdict for a in accs if not a.ours for p in a.predictions if p.additivity is not None]
    return combine(mine + theirs)


def conclusion(accs: list[Account]) -> str:
    """What the runs say about the accounts, in words, from their verdicts (plain text)."""
    contradicted = [f"({a.key})" for a in accs if a.verdict == CONTRADICTED]
    supported = [f"({a.key})" for a in accs if a.verdict == SUPPORTED]
    undecided = [f"({a.key}) {a.verdict}" for a in accs if a.verdict not in (CONTRADICTED, SUPPORTED)]
    parts = []
    if contradicted:
        parts.append(f"The runs contradict {', '.join(contradicted)}")
    if supported:
        parts.append(f"they support {', '.join(supported)}")
    if undecided:
        parts.append(f"they do not decide {', '.join(undecided)}")
    text = ("; ".join(parts) + ". ") if parts else ""
    return text + (f"Additivity's own predictions, on its runs and on each rival's: {additivity_verdict(accs)}. "
                   f"Lines: {rule(LEARNS)}; {rule(NO_BETTER)}; {rule(NO_INFO)}; a contrast counts only when its "
                   "one-sided Welch t-test is significant after Holm's correction.")


def proposals(df: pd.DataFrame, ctx: Context) -> list[tuple[str, str]]:
    """The asker's two proposals answered from the runs: (question, answer in plain text)."""
    rnd = swap_symmetric(df)
    enc = ctx.baseline.get("encoder")
    add, inter = _keras(structured(rnd, additive=True), ctx, "encoder"), _keras(structured(rnd, additive=False), ctx, "encoder")
    out = []
    other = add[add["encoder"] != enc]
    if other.empty:
        out.append(("A CNN encoder?", "Not measured: no additive head was run with another encoder."))
    else:
        text = (f"Additive heads with the default encoder: {cell_numbers(add[add['encoder'] == enc], ctx)}; with another "
                f"encoder: {cell_numbers(other, ctx)}. Theorem 4 holds for any encoder, since g and h are any functions "
                "of one image.")
        learned = inter[inter["encoder"].isin(set(other["encoder"]))]
        if len(learned):
            text += f" The same encoders under heads with an interaction term: {cell_numbers(learned, ctx)}: the head decides."
        out.append(("A CNN encoder?", text))
    flat = structured(rnd[rnd["depth"] == 0], additive=True)
    deep = inter[inter["head._target_"].isin(set(flat["head._target_"])) & (inter["depth"] > 0)]
    if flat.empty or deep.empty:
        out.append(("More dense layers?", "Not measured: no additive merge was run with and without a hidden layer."))
    else:
        flat = _keras(flat, ctx)
        out.append(("More dense layers?",
                    "Where they go matters. Dense layers in the encoder come before the merge and leave the head additive; "
                    f"without a hidden layer after the merge: {cell_numbers(flat, ctx)}; with one or more (measured "
                    f"interaction at initialisation {deep['interaction_init'].min():.2g} to {deep['interaction_init'].max():.2g}): "
                    f"{cell_numbers(_keras(deep, ctx), ctx)}."))
    return out

