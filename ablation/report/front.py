"""The front page: the answer in plain words, from the per-head table, the claims and the accounts.

What the failing heads compute, why that cannot compare two images, what fixes it and the accuracies measured,
each sentence computed from the runs (heads grouped by their measured structure, never by name) and saying so
when the runs lack what it needs. Plain text: the report escapes it as Markdown, the console prints it as it is.
Pure.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pandas as pd

from ablation.mechanism import ADDITIVE_TOL, BOUND, FIXED, SWAP_SYMMETRIC

from .judge import CONTRADICTED, HOLDS, NOT_MEASURED, PREDICTION_VERDICTS, VIOLATED
from .select import Context, structured
from .words import pct, plural


@dataclass(frozen=True)
class Paragraph:
    lead: str  # a few words in bold before the text ("" for none)
    text: str


def _keras(t: pd.DataFrame, ctx: Context) -> pd.DataFrame:
    """The per-head rows at the Keras setting but for the depth and the pair order (all rows if none is there)."""
    keras = t
    for col, value in ((k, v) for k, v in ctx.baseline.items() if k in t and k not in ("depth", "pair_order")):
        keras = keras[keras[col] == value]
    return keras if len(keras) else t


def head_name(row: pd.Series, ctx: Context) -> str:
    """A head in a few words: its label, and its hidden layers when it has any."""
    d = row["depth"]
    return ctx.name("head", row["head"]) + (f" with {ctx.name('depth', d)}" if pd.notna(d) and int(d) > 0 else "")


def accuracies(rows: pd.DataFrame, ctx: Context, seeds: bool = False) -> str:
    """'subtract a−b + dense 49.9 %, concatenate 50.1 %': each row's mean test accuracy (with `seeds`, a row of a
    single seed says so: the page's seeds differ)."""
    return ", ".join(f"{head_name(r, ctx)} {pct(r['test_acc'])}" + (" (1 seed)" if seeds and r["n"] == 1 else "")
                     for _, r in rows.iterrows())


def names(rows: pd.DataFrame, ctx: Context) -> str:
    return ", ".join(dict.fromkeys(head_name(r, ctx) for _, r in rows.iterrows()))


def answer(a) -> list[Paragraph]:  # a: document.Analysis (this module sits below document)
    """The answer in a few short paragraphs, all from `a`."""
    t, ctx = a.heads, a.ctx
    if t.empty:
        return [Paragraph("", "No completed run in the report's setting: nothing to answer from.")]
    keras = _keras(t, ctx)
    rnd, srt = keras[keras["pair_order"].isin(SWAP_SYMMETRIC)], keras[keras["pair_order"].isin(FIXED)]
    add, inter = structured(rnd, additive=True), structured(rnd, additive=False)
    seeds = sorted(set(int(n) for n in keras["n"]))
    many = len(seeds) > 1
    acc = lambda rows: accuracies(rows, ctx, many)  # noqa: E731
    mean = ("one seed each, so no interval yet" if seeds == [1] else f"mean of {plural(seeds[0], 'seed')}" if not many
            else f"mean of {seeds[0]} to {seeds[-1]} seeds")
    out = [Paragraph("", f"Test accuracies below: {_where(a)}, test pairs in random order unless said, {mean}; chance "
                         "is 50 %.")]
    computes = ("measured on each model, these heads turn each image into one number and add the two, z(a, b) = g(a) "
                "+ h(b) + c. Such a head is called additive: the part of z that depends on both images together (its "
                f"interaction) is at rounding level, at most {ADDITIVE_TOL:g} of its spread.")
    if len(add):
        out.append(Paragraph("What the failing head computes.", f"{acc(add)}: {computes}"))
    elif len(structured(keras, additive=True)):  # additive heads, but only on pairs in a fixed order
        out.append(Paragraph("What the failing head computes.", f"{names(structured(keras, additive=True), ctx)}: "
                             f"{computes} None was run on pairs in random order, where it fails."))
    else:
        out.append(Paragraph("What the failing head computes.",
                             "No head in these runs is additive (one number for each image, added): each one's measured "
                             "interaction is above rounding level, so these runs cannot show the failure."))
    out.append(Paragraph("Why that cannot compare two images.",
                         "Take two images a, a′ of one digit and b, b′ of another. The four pairs form a rectangle, and "
                         "for an additive head z(a, a′) + z(b, b′) = z(a, b′) + z(b, a′): if both same pairs score "
                         "\"same\", one of the two cross pairs does too. So it gets at most three of the four right: at "
                         f"most {pct(BOUND, 0)} on pairs that come in both orders, as the Keras pairs do, and training "
                         "settles on a constant output: chance."))
    fix = ("An interaction term, so that the answer depends on both images together: "
           + (f"{acc(inter)}." if len(inter) else "|a − b|, a product or a hidden layer after the merge "
              "(none was run here)."))
    enc = ctx.baseline.get("encoder")
    if "encoder" in t:  # an additive head with another encoder: the asker's first proposal
        other = structured(t[(t["encoder"] != enc) & t["pair_order"].isin(SWAP_SYMMETRIC)], additive=True)
        if len(other):
            fix += (f" Another encoder does not help an additive head: {acc(other)} with "
                    f"{ctx.name('encoder', other['encoder'].iloc[0])}.")
    asym, sym = structured(srt, additive=True, symmetric=False), structured(srt, additive=True, symmetric=True)
    if len(asym) or len(sym):
        fix += (" With the smaller digit first in every pair" + (f", additive heads that are not symmetric can rank "
                f"the digits: {acc(asym)}" if len(asym) else "")
                + (f"{';' if len(asym) else ','} a symmetric one cannot: {acc(sym)}" if len(sym) else "") + ".")
    out.append(Paragraph("What fixes it.", fix))
    bad = names(keras[keras["verdict"] == CONTRADICTED], ctx)
    out.append(Paragraph("How sure.", (f"Against the explanation: {bad} (see the per-head table). " if bad else "")
                         + verdicts(a)))
    return out


def _where(a) -> str:
    fixed = a.ctx.fixed
    return ", ".join(a.ctx.name(k, fixed[k]) for k in ("data", "epochs") if k in fixed)


def verdicts(a) -> str:
    """The claims' and the accounts' verdicts in one or two sentences."""
    preds = [k.verdict for c in a.claims if not c.sanity for k in c.checks]
    counts = ", ".join(f"{preds.count(v)} {v}" for v in PREDICTION_VERDICTS if preds.count(v))
    sanity = [k.verdict for c in a.claims if c.sanity for k in c.checks]
    text = (f"Of the {plural(len(preds), 'prediction')} of this explanation that the runs could contradict: {counts}"
            + (f"; {sanity.count(VIOLATED)} of {len(sanity)} sanity checks violated, a bug" if VIOLATED in sanity else
               f"; {sanity.count(HOLDS)} of {len(sanity)} sanity checks hold" if sanity.count(HOLDS) else "") + ".")
    rivals = [x for x in a.accounts if not x.ours]
    if rivals:
        text += " Other explanations: " + "; ".join(f"“{x.statement}” ({x.source}): {x.verdict}" for x in rivals) + "."
    if NOT_MEASURED in preds:
        text += " What is not measured comes with the command that measures it."
    return text


def answer_text(a, width: int = 110) -> str:
    """The front page as plain text, wrapped for a terminal (the console summary opens with it)."""
    return "\n".join(textwrap.fill(f"{p.lead} {p.text}".strip(), width, break_on_hyphens=False) for p in answer(a))

