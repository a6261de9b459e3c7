"""The original thread's other explanations, each tested on the runs beside the antisymmetry explanation.

Each explanation makes predictions about runs the study has; a prediction is judged like any other
(≥ MIN_SEEDS seeds per cell, the 95 % CI against a line, one-sided Welch t-tests for contrasts), and the
antisymmetry explanation's own prediction for the same runs is judged next to it. Pure: runs in, records out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .claims import cell_numbers, flat_antisymmetric, level_check, traits
from .labels import pct
from .select import BASELINE, where
from .verdicts import (AT_CHANCE, CHANCE_BAND, CONTRADICTED, NO_BETTER, SUPPORTED, WORKS, WORKS_ACC, Check, Contrast,
                       adjust, combine, contrast, level_rule)

@dataclass(frozen=True)
class Prediction:
    what: str  # what the rival explanation predicts, in words
    rival: Check  # that prediction judged on the runs
    ours: Check | None = None  # the antisymmetry explanation's prediction for the same runs, judged
    contrast: Contrast | None = None  # a comparison that says how confidently the runs decide
    numbers: str = ""  # the runs' test accuracies with their CIs
    rule: str = ""  # the line the rival's prediction is judged by
    our_rule: str = ""


@dataclass(frozen=True)
class Rival:
    key: str
    source: str  # who said it in the thread
    statement: str
    predictions: list[Prediction] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        """Contradicted if any prediction is; supported only if every prediction is."""
        return combine([p.rival.verdict for p in self.predictions])

    @property
    def ours(self) -> str:
        """The antisymmetry explanation on the same runs."""
        return combine([p.ours.verdict for p in self.predictions if p.ours is not None])


def _baseline(df: pd.DataFrame, **change: Any) -> pd.DataFrame:
    return where(df, **{**BASELINE, **change})


def _pred(what: str, runs: pd.DataFrame, levels: dict, ctx: dict, rival_test: str, our_test: str | None,
          con: Contrast | None = None) -> Prediction:
    rival = level_check(what, runs, levels, ctx, rival_test)
    ours = level_check(what, runs, levels, ctx, our_test) if our_test else None
    return Prediction(what, rival, ours, con, cell_numbers(runs), level_rule(rival_test), level_rule(our_test) if our_test else "")


def rivals(df: pd.DataFrame, ctx: dict[str, Any]) -> list[Rival]:
    """The three explanations from the thread, with their predictions judged on `df` (runs at the context `ctx`)."""
    df = traits(df)
    sub = flat_antisymmetric(df)
    sub_base, sub_sorted = _baseline(sub), _baseline(sub, pair_order="sorted")
    learned_sym = df[df["symmetric"] & ~df["weightless"] & (df["depth"] == 0)]
    abs_base, abs_flip = _baseline(learned_sym), _baseline(learned_sym, convention="similarity")
    sub_cnn = _baseline(sub, encoder="cnn")
    sym_vs_sub, sorted_vs_random, cnn_vs_mlp = adjust([
        contrast("|a−b| + dense > subtract (no hidden layer)", sub_base["test_acc"], abs_base["test_acc"]),
        contrast("smaller digit first > random order (subtract, no hidden layer)", sub_base["test_acc"], sub_sorted["test_acc"]),
        contrast("CNN encoder > MLP encoder (subtract, no hidden layer)", sub_base["test_acc"], sub_cnn["test_acc"]),
    ])
    answer = Rival(
        "a", "the answer in the thread",
        "a − b ≈ 0 for same-digit pairs, and one dense unit cannot give a high response from zeros",
        [_pred("|a−b| + dense without a hidden layer also fails, since its input is ≈ 0 for same pairs too", abs_base,
               {"head": "absdiff"}, ctx, NO_BETTER, WORKS, sym_vs_sub),
         _pred("the same subtract head also fails on pairs in a fixed order, since a − b is still ≈ 0 for same pairs",
               sub_sorted, {"head": "subtract", "pair_order": "sorted"}, ctx, NO_BETTER, WORKS, sorted_vs_random)])
    asker = Rival(
        "b", "the asker",
        "the flipped loss and accuracy (same → high score) are the problem",
        [_pred("subtract works under the standard convention (same → low score)", sub_base, {"head": "subtract"}, ctx,
               WORKS, AT_CHANCE),
         _pred("|a−b| + dense fails under the flipped convention (same → high score)", abs_flip,
               {"head": "absdiff", "convention": "similarity"}, ctx, NO_BETTER, WORKS)])
    gain = "the CNN encoder raises subtract's accuracy over the MLP encoder"
    cnn = Rival(
        "c", "the asker's first proposal",
        "a CNN encoder would fix it",
        [_pred("subtract + a single dense layer works with a CNN encoder", sub_cnn, {"head": "subtract", "encoder": "cnn"},
               ctx, WORKS, AT_CHANCE),
         # whether the CNN helps at all: a contrast, judged as a prediction of its own
         Prediction(gain, Check(gain, cnn_vs_mlp.verdict, cnn_vs_mlp.text), numbers=cnn_vs_mlp.text,
                    rule="one-sided Welch t-test, Holm-adjusted")])
    return [answer, asker, cnn]


def summary_line(r: Rival) -> str:
    """One sentence per explanation: the verdict and the numbers that decide it."""
    bad = [p for p in r.predictions if p.rival.verdict == CONTRADICTED]
    head = f"({r.key}) {r.source}, “{r.statement}”: **{r.verdict}**"
    if r.verdict == CONTRADICTED:
        return (f"{head} — it predicts that {bad[0].what} ({bad[0].rule}), but {bad[0].numbers}"
                + (f"; and that {bad[1].what} ({bad[1].rule}), but {bad[1].numbers}" if len(bad) > 1 else "") + ".")
    if r.verdict == SUPPORTED:
        return f"{head} — every prediction it makes holds on these runs."
    return f"{head} — " + "; ".join(f"{p.what}: {p.rival.verdict}" for p in r.predictions) + "."


def conclusion(rs: list[Rival]) -> str:
    """What the runs say about the explanations, in words, from their verdicts."""
    contradicted = [f"({r.key})" for r in rs if r.verdict == CONTRADICTED]
    supported = [f"({r.key})" for r in rs if r.verdict == SUPPORTED]
    open_ = [f"({r.key}) {r.verdict}" for r in rs if r.verdict not in (CONTRADICTED, SUPPORTED)]
    ours = combine([r.ours for r in rs])
    lo, hi = CHANCE_BAND
    parts = []
    if contradicted:
        parts.append(f"The runs contradict {', '.join(contradicted)}")
    if supported:
        parts.append(f"they support {', '.join(supported)}")
    if open_:
        parts.append(f"they do not decide {', '.join(open_)}")
    text = "; ".join(parts) + ". " if parts else ""
    text += (f"On the same runs the antisymmetry explanation is **{ours}**. Confidence: a level is decided only when "
             f"its 95 % CI clears the line ({pct(WORKS_ACC, 0)} for works, {pct(hi, 0)} for no better than chance, "
             f"[{pct(lo, 0)}, {pct(hi, 0)}] for at chance), a contrast only when its one-sided Welch t-test is significant "
             "after Holm's correction across the three contrasts.")
    return text

