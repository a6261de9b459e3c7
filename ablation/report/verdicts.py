"""Verdicts: the named thresholds, how a level or a contrast is judged, the check/claim records, and the command
that would measure a gap.

Sanity checks (docs/mechanism.md 1-3) hold by construction: each run either satisfies them or shows a bug.
Predictions (4-6) could have gone the other way: they are judged with at least MIN_SEEDS seeds per cell, by
confidence intervals and one-sided tests, never by a mean alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .stats import MeanCI, Test, holm, welch

# Every threshold a verdict uses; the report prints them next to the verdicts.
CHANCE = 0.5
CHANCE_BAND = (0.45, 0.55)  # "at chance": the 95 % CI of the test accuracy lies inside this band
WORKS_ACC = 0.80  # "works" / "learns": the 95 % CI's lower bound is at least this
MIN_SEEDS = 3  # a prediction is judged only with this many seeds in every cell it uses
ALPHA = 0.05  # contrasts: one-sided Welch t-test in the predicted direction, Holm-adjusted within a claim
ANTISYM_TOL = 1e-4  # |z(a,b) + z(b,a) − 2c| this small is float32 rounding, i.e. exact
SWAP_TOL = 1e-4  # a symmetric head's mean |s(a,b) − s(b,a)| this small is rounding
SYMMETRY_TOL = 0.05  # random pair order: smaller digit first in 50 % ± 5 points of the different pairs
CEILING = 0.75  # best accuracy over both input orders of an antisymmetric head (docs/mechanism.md, 3.)
CEILING_TOL = 0.005  # slack for test sets that are not exactly balanced
COLLAPSE_STD = 0.05  # a sigmoid output whose std over test pairs is below this answers (almost) the same for every pair
REPLICATES = "0,1,2"  # seeds a suggested sweep command runs

THRESHOLDS = {
    "CHANCE_BAND": (f"{CHANCE_BAND[0]:g}–{CHANCE_BAND[1]:g}", "at chance = the 95 % CI of the test accuracy lies inside this band"),
    "WORKS_ACC": (WORKS_ACC, "works / learns = the 95 % CI's lower bound is at least this"),
    "MIN_SEEDS": (MIN_SEEDS, "seeds needed in every cell a prediction uses; fewer = not measured"),
    "ALPHA": (ALPHA, "contrasts: one-sided Welch t-test in the predicted direction, Holm-adjusted within a claim"),
    "ANTISYM_TOL": (ANTISYM_TOL, "largest |z(a,b) + z(b,a) − 2c| counted as exact (float32 rounding)"),
    "SWAP_TOL": (SWAP_TOL, "largest mean |s(a,b) − s(b,a)| counted as order-independent"),
    "SYMMETRY_TOL": (SYMMETRY_TOL, "random order = smaller digit first in 50 % ± this of the different pairs"),
    "CEILING": (CEILING, "ceiling of accuracy over both input orders for an antisymmetric head"),
    "CEILING_TOL": (CEILING_TOL, "slack on the ceiling for a test set that is not exactly balanced"),
    "COLLAPSE_STD": (COLLAPSE_STD, "collapsed = std of the sigmoid output over test pairs below this, in every run"),
}

# Predictions
SUPPORTED, CONTRADICTED, NOT_MEASURED = "supported", "contradicted", "not measured"
INCONCLUSIVE = "inconclusive"  # enough seeds, but a CI straddles the line or a contrast is not significant
NOT_TESTABLE = "not testable"  # a contrast whose groups have no variance: no p-value, so no verdict
# Sanity checks
HOLDS, VIOLATED = "holds", "violated (a bug)"

PRECEDENCE = (CONTRADICTED, VIOLATED, NOT_MEASURED, NOT_TESTABLE, INCONCLUSIVE)  # the first present decides


def combine(verdicts: list[str], ok: str = SUPPORTED) -> str:
    """Several verdicts → one: contradicted, else not measured, else not testable, else inconclusive, else ok."""
    present = set(verdicts)
    return next((v for v in PRECEDENCE if v in present), ok if present else NOT_MEASURED)


# What a level check asks of one cell's test accuracy.
WORKS, AT_CHANCE, NO_BETTER = "works", "at chance", "no better than chance"


def level(ci: MeanCI, test: str) -> str:
    """One cell judged by its CI: supported, contradicted, inconclusive (the CI straddles the line), not measured."""
    if ci.n < MIN_SEEDS:
        return NOT_MEASURED
    lo, hi = CHANCE_BAND
    if test == WORKS:
        return SUPPORTED if ci.lo >= WORKS_ACC else CONTRADICTED if ci.hi < WORKS_ACC else INCONCLUSIVE
    if test == AT_CHANCE:
        inside = lo <= ci.lo and ci.hi <= hi
        return SUPPORTED if inside else CONTRADICTED if (ci.hi < lo or ci.lo > hi) else INCONCLUSIVE
    if test == NO_BETTER:
        return SUPPORTED if ci.hi <= hi else CONTRADICTED if ci.lo > hi else INCONCLUSIVE
    raise ValueError(f"unknown level test {test!r}")


def level_rule(test: str) -> str:
    """The rule of a level test in words, with its threshold."""
    lo, hi = CHANCE_BAND
    return {WORKS: f"works = CI lower bound ≥ {100 * WORKS_ACC:.0f} %",
            AT_CHANCE: f"at chance = CI inside [{100 * lo:.0f} %, {100 * hi:.0f} %]",
            NO_BETTER: f"no better than chance = CI upper bound ≤ {100 * hi:.0f} %"}[test]


@dataclass(frozen=True)
class Contrast:
    """A one-sided comparison: the prediction is mean(after) > mean(before)."""

    label: str  # e.g. "smaller digit first > random order"
    before: np.ndarray
    after: np.ndarray
    test: Test
    p_adj: float = np.nan  # Holm-adjusted within its claim

    @property
    def verdict(self) -> str:
        if len(self.before) < MIN_SEEDS or len(self.after) < MIN_SEEDS:
            return NOT_MEASURED
        if np.isnan(self.test.p):
            return NOT_TESTABLE
        if self.p_adj < ALPHA:
            return SUPPORTED
        opposite = welch(self.after, self.before, "greater")  # significant the other way round
        return CONTRADICTED if opposite.p < ALPHA else INCONCLUSIVE

    @property
    def text(self) -> str:
        t, d = self.test, 100 * self.test.effect
        if np.isnan(t.p):
            why = ("fewer than 2 seeds in a group" if min(len(self.before), len(self.after)) < 2
                   else "every seed gave the same accuracy in both groups, so there is no variance")
            return f"{self.label}: difference {d:+.1f} points; {t.name} not testable ({why})"
        return (f"{self.label}: difference {d:+.1f} points, {t.name} t = {t.statistic:.2f} (df {t.df}), "
                f"p = {p_short(t.p)}, Holm-adjusted {p_short(self.p_adj)} (α = {ALPHA:g})")


def contrast(label: str, before: Any, after: Any) -> Contrast:
    b, a = np.asarray(before, float), np.asarray(after, float)
    return Contrast(label, b, a, welch(b, a, "greater"))


def adjust(contrasts: list[Contrast]) -> list[Contrast]:
    """Holm's correction across the contrasts of one claim."""
    adj = holm([c.test.p for c in contrasts])
    return [Contrast(c.label, c.before, c.after, c.test, p) for c, p in zip(contrasts, adj)]


def p_short(p: float) -> str:
    return "not testable" if np.isnan(p) else "< 1e-6" if p < 1e-6 else f"{p:.2g}"


@dataclass(frozen=True)
class Check:
    """One measurable part of a claim: its verdict and the numbers behind it."""

    what: str
    verdict: str
    evidence: str
    command: str | None = None  # the sweep that would measure it, when not measured


@dataclass(frozen=True)
class Claim:
    number: int
    title: str
    statement: str
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # measured context that is not a check
    sanity: bool = False  # holds by construction: a failure is a bug, not a finding

    @property
    def verdict(self) -> str:
        return combine([c.verdict for c in self.checks], HOLDS if self.sanity else SUPPORTED)


# factor → (override key, the config default it is left out at)
OVERRIDES: dict[str, tuple[str, Any]] = {
    "head": ("head", None), "depth": ("depth", 0), "encoder": ("encoder", "mlp"), "loss": ("loss", "contrastive"),
    "convention": ("loss.convention", "distance"), "pair_order": ("data.pair_order", "random"),
    "data": ("data", "mnist5k"), "epochs": ("train.epochs", 20),
}


def sweep_command(levels: dict[str, Any], context: dict[str, Any]) -> str:
    """The `python -m ablation.sweep -m ...` that runs the given levels (lists become sweeps) in the context."""
    args = []
    for f, v in {**levels, **context}.items():
        if f not in OVERRIDES or v is None:
            continue
        key, default = OVERRIDES[f]
        values = list(v) if isinstance(v, (list, tuple)) else [v]
        explicit = f == "convention" and levels.get("loss") == "bce"  # bce's own default convention differs
        if values == [default] and not explicit:
            continue
        args.append(f"{key}={','.join(str(x) for x in values)}")
    if "convention" not in levels and levels.get("loss") == "bce":
        args.append("loss.convention=distance")
    return " ".join(["python -m ablation.sweep -m", *args, f"seed={REPLICATES}"])

