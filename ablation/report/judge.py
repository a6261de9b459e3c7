"""Judging: the statistics (t intervals, Welch's t-test, Holm), the named thresholds, how a cell's level or a
contrast becomes a verdict, the check and claim records, and the command that would measure a gap.

Sanity checks hold by construction: each run either satisfies them or shows a bug. Predictions could have gone
the other way: judged only with at least MIN_SEEDS seeds per cell, by confidence intervals and one-sided tests,
never by a mean alone, and never against a line tuned to one training budget.
"""

from __future__ import annotations

import shlex
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ablation.factors import BASELINE
from ablation.mechanism import ADDITIVE_TOL, BOUND, SYMMETRY_TOL

from .select import Context
from .words import DOTTED, GROUPS, SHORT, pct, plain

# ---------------------------------------------------------------- statistics

LEVEL = 0.95  # confidence level of every interval in the report


def t_half(std: Any, n: Any, level: float = LEVEL) -> Any:
    """Half-width of the t interval of a mean over n values with this standard deviation (vectorised)."""
    n = np.asarray(n, dtype=float)
    return stats.t.ppf((1 + level) / 2, np.maximum(n - 1, 1)) * np.asarray(std, dtype=float) / np.sqrt(np.maximum(n, 1))


@dataclass(frozen=True)
class MeanCI:
    mean: float
    lo: float
    hi: float
    n: int

    @property
    def half(self) -> float:
        return (self.hi - self.lo) / 2


def mean_ci(x: Any, level: float = LEVEL) -> MeanCI:
    """Mean and its t interval over replicates (seeds); no interval from fewer than two values."""
    try:
        x = np.asarray(x, dtype=float)
    except (TypeError, ValueError):  # text or NA among the values: what is a number counts
        x = np.asarray(pd.to_numeric(pd.Series(x), errors="coerce"), dtype=float)
    x = x[~np.isnan(x)]
    if len(x) == 0:
        return MeanCI(np.nan, np.nan, np.nan, 0)
    m = float(x.mean())
    if len(x) < 2:
        return MeanCI(m, np.nan, np.nan, 1)
    h = float(t_half(x.std(ddof=1), len(x), level))
    return MeanCI(m, m - h, m + h, len(x))


@dataclass(frozen=True)
class Test:
    name: str  # the test, as it is named in the report
    statistic: float
    df: str  # degrees of freedom as written ("2, 12")
    p: float
    effect: float = np.nan  # partial eta squared (ANOVA) or difference of means (t-test)


def welch(x: Any, y: Any, alternative: str = "two-sided") -> Test:
    """Welch's two-sample t-test: does mean(y) differ from (with "greater": exceed) mean(x)? Without two values
    per group and some variance there is no p-value: NaN, i.e. not testable."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    diff = float(y.mean() - x.mean()) if len(x) and len(y) else np.nan
    name = "Welch t-test" + (", one-sided" if alternative != "two-sided" else "")
    if len(x) < 2 or len(y) < 2 or (np.var(x) == 0 and np.var(y) == 0):
        return Test(name, np.nan, "", np.nan, diff)
    with warnings.catch_warnings():  # near-identical seeds: scipy warns, the result is still the right one
        warnings.simplefilter("ignore", RuntimeWarning)
        r = stats.ttest_ind(y, x, equal_var=False, alternative=alternative)
    return Test(name, float(r.statistic), f"{float(r.df):.1f}", float(r.pvalue), diff)


def holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (NaN stays NaN and is not counted)."""
    idx = [i for i, v in enumerate(p) if not np.isnan(v)]
    out, running = [np.nan] * len(p), 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: p[i])):
        running = max(running, min(1.0, (len(idx) - rank) * p[i]))
        out[i] = running
    return out


def p_text(p: float) -> str:
    """The one way a p-value is written ("p" then this: "= 0.016", "< 1e-6", "not testable")."""
    return "not testable" if pd.isna(p) else "< 1e-6" if p < 1e-6 else f"= {p:.2g}"


# ---------------------------------------------------------------- thresholds (printed by the report)

CHANCE = 0.5
CHANCE_BAND = (0.45, 0.55)  # accuracy: "learns" = CI above it; "no better than chance" = CI upper end within it
NO_INFO_BAND = (0.40, 0.60)  # ROC AUC: "no information" = every run's AUC interval over its test pairs inside it
MIN_SEEDS = 3  # a prediction is judged only with this many seeds in every cell it uses
ALPHA = 0.05  # contrasts: one-sided Welch t-test in the predicted direction, Holm-adjusted within a claim
PAIR_BALANCE_TOL = 0.05  # random pair order: smaller digit first in 50 % ± this of the different pairs
CEILING_TOL = 0.005  # slack on the exact 75 % of an antisymmetric head, for a test set not exactly balanced

THRESHOLDS = {
    "CHANCE_BAND": (f"{CHANCE_BAND[0]:g}–{CHANCE_BAND[1]:g}", "accuracy: learns = 95 % CI over seeds above it; no better "
                    "than chance = CI upper end inside it"),
    "NO_INFO_BAND": (f"{NO_INFO_BAND[0]:g}–{NO_INFO_BAND[1]:g}", "ROC AUC: no information = every run's 95 % interval over "
                     "its test pairs inside it"),
    "MIN_SEEDS": (MIN_SEEDS, "seeds needed in every cell a prediction uses; fewer = not measured"),
    "ALPHA": (ALPHA, "contrasts: one-sided Welch t-test in the predicted direction, Holm-adjusted within a claim"),
    "ADDITIVE_TOL": (ADDITIVE_TOL, "largest interaction at initialisation (relative) of an additive head"),
    "SYMMETRY_TOL": (SYMMETRY_TOL, "largest relative residual of a symmetric or antisymmetric head"),
    "BOUND": (BOUND, "best accuracy of an additive head on swap-symmetric pairs (over both orders, any pair order)"),
    "CEILING_TOL": (CEILING_TOL, "slack on the exact bound of an antisymmetric head (test sets not exactly balanced)"),
    "PAIR_BALANCE_TOL": (PAIR_BALANCE_TOL, "random order = smaller digit first in 50 % ± this of the different pairs"),
}

# ---------------------------------------------------------------- verdicts

SUPPORTED, CONTRADICTED, NOT_MEASURED = "supported", "contradicted", "not measured"
INCONCLUSIVE = "inconclusive"  # enough seeds, but a CI straddles a line or a contrast is not significant
NOT_TESTABLE = "not testable"  # a contrast whose groups have no variance: no p-value, so no verdict
HOLDS, VIOLATED = "holds", "violated (a bug)"  # sanity checks
PRECEDENCE = (CONTRADICTED, VIOLATED, NOT_MEASURED, NOT_TESTABLE, INCONCLUSIVE)  # the first present decides
PREDICTION_VERDICTS = (SUPPORTED, CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE, NOT_MEASURED)

LEARNS, NO_BETTER, NO_INFO = "learns", "no better than chance", "carries no information"  # what a check asks


def combine(verdicts: list[str], ok: str = SUPPORTED) -> str:
    """Several verdicts → one: contradicted, else not measured, else not testable, else inconclusive, else ok."""
    present = set(verdicts)
    return next((v for v in PRECEDENCE if v in present), ok if present else NOT_MEASURED)


def rule(test: str) -> str:
    """The rule of a level test in words, with its threshold."""
    lo, hi = CHANCE_BAND
    return {LEARNS: f"learns = accuracy CI above {pct(hi, 0)}, unless every run's ROC AUC interval is inside "
                    f"[{NO_INFO_BAND[0]:g}, {NO_INFO_BAND[1]:g}]",
            NO_BETTER: f"no better than chance = accuracy CI upper end ≤ {pct(hi, 0)}, or every run's ROC AUC interval "
                       f"inside [{NO_INFO_BAND[0]:g}, {NO_INFO_BAND[1]:g}]",
            NO_INFO: f"no information = every run's ROC AUC interval inside [{NO_INFO_BAND[0]:g}, {NO_INFO_BAND[1]:g}]"}[test]


def level(ci: MeanCI, test: str) -> str:
    """One cell's accuracy judged by its CI (LEARNS or NO_BETTER)."""
    if ci.n < MIN_SEEDS:
        return NOT_MEASURED
    hi = CHANCE_BAND[1]
    if test == LEARNS:
        return SUPPORTED if ci.lo > hi else CONTRADICTED if ci.hi <= hi else INCONCLUSIVE
    if test == NO_BETTER:
        return SUPPORTED if ci.hi <= hi else CONTRADICTED if ci.lo > hi else INCONCLUSIVE
    raise ValueError(f"unknown level test {test!r}")


def judge_cell(runs: pd.DataFrame, test: str) -> str:
    """One cell judged for one test on one body of evidence. When every run's ROC AUC interval lies inside the
    no-information band the runs carry no information: "learns" is then contradicted and "no better than chance"
    supported, whatever the accuracy's interval over seeds (noisy on a few seeds) says; so a rival's "learns" and
    additivity's "chance" about the same runs can never both stand."""
    if test == NO_INFO:
        return no_information(runs)
    v = level(mean_ci(runs["test_acc"]), test)
    if v != NOT_MEASURED and no_information(runs) == SUPPORTED:
        return CONTRADICTED if test == LEARNS else SUPPORTED
    return v


def no_information(runs: pd.DataFrame) -> str:
    """One cell judged by each run's ROC AUC interval over its own test pairs: inside the band in every run."""
    if len(runs) < MIN_SEEDS:
        return NOT_MEASURED
    lo, hi, (a, b) = runs["test_auc_lo"], runs["test_auc_hi"], NO_INFO_BAND
    if ((hi < a) | (lo > b)).any():
        return CONTRADICTED
    return SUPPORTED if ((lo >= a) & (hi <= b)).all() else INCONCLUSIVE


@dataclass(frozen=True)
class Contrast:
    """A one-sided comparison: the prediction is mean(after) > mean(before)."""

    label: str
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
        return CONTRADICTED if welch(self.after, self.before, "greater").p < ALPHA else INCONCLUSIVE

    @property
    def text(self) -> str:
        t, d = self.test, 100 * self.test.effect
        if not len(self.before) or not len(self.after):
            return f"{self.label}: no run in {'either group' if not len(self.before) and not len(self.after) else 'one group'}"
        if np.isnan(t.p):
            why = ("fewer than 2 seeds in a group" if min(len(self.before), len(self.after)) < 2
                   else "every seed gave the same accuracy in both groups, so there is no variance")
            return f"{self.label}: difference {d:+.1f} points; {t.name} not testable ({why})"
        return (f"{self.label}: difference {d:+.1f} points, {t.name} t = {t.statistic:.2f} (df {t.df}), "
                f"p {p_text(t.p)}, Holm-adjusted p {p_text(self.p_adj)} (α = {ALPHA:g})")


def contrast(label: str, before: Any, after: Any) -> Contrast:
    b, a = np.asarray(before, float), np.asarray(after, float)
    return Contrast(label, b, a, welch(b, a, "greater"))


def adjust(contrasts: list[Contrast]) -> list[Contrast]:
    """Holm's correction across the contrasts of one claim."""
    adj = holm([c.test.p for c in contrasts])
    return [Contrast(c.label, c.before, c.after, c.test, p) for c, p in zip(contrasts, adj)]


@dataclass(frozen=True)
class Check:
    """One measurable part of a claim: its verdict and the numbers behind it (plain text)."""

    what: str
    verdict: str
    evidence: str
    command: str | None = None  # the sweep that would measure it, when not measured


@dataclass(frozen=True)
class Claim:
    number: int
    title: str
    statement: str
    sanity: bool = False  # holds by construction: a failure is a bug, not a finding
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # measured context that is not a check

    @property
    def verdict(self) -> str:
        return combine([c.verdict for c in self.checks], HOLDS if self.sanity else SUPPORTED)


# ---------------------------------------------------------------- cells and level checks

VARIED = BASELINE  # the factors a cell varies around the Keras setting


def cells(df: pd.DataFrame, ctx: Context) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """The runs grouped by cell; a cell's levels name the head, the depth, what varies in `df` and what is off
    the Keras setting."""
    keys = [k for k in ("head", "head._target_", *VARIED) if k in df]
    varying = {f for f in VARIED if df[f].nunique() > 1}
    out = []
    for lv, g in df.groupby(keys, observed=True, sort=True, dropna=False):
        levels = dict(zip(keys, lv))
        out.append(({k: v for k, v in levels.items() if k in ("head", "depth") or k in varying
                     or (k in ctx.baseline and ctx.baseline[k] != v)}, g))
    return out


def acc_text(ci: MeanCI) -> str:
    if ci.n == 0:
        return "no runs"
    if ci.n == 1:
        return f"{pct(ci.mean)} (one seed, no CI)"
    return f"{pct(ci.mean)} [95 % CI {pct(ci.lo)}, {pct(ci.hi)}], n={ci.n}"


def span(lo: float, hi: float, fmt: str = "{:.3f}") -> str:
    """'0.452–0.994', or one value when both ends are one (a single run, or runs that agree)."""
    a, b = fmt.format(lo), fmt.format(hi)
    return a if a == b else f"{a}–{b}"


def auc_text(g: pd.DataFrame) -> str:
    if len(g) == 1:
        r = g.iloc[0]
        return f"ROC AUC {r['test_auc']:.3f} (interval {span(r['test_auc_lo'], r['test_auc_hi'])}), one run"
    return (f"ROC AUC {span(g['test_auc'].min(), g['test_auc'].max())} (intervals "
            f"{span(g['test_auc_lo'].min(), g['test_auc_hi'].max())}), n={len(g)}")


def cell_numbers(df: pd.DataFrame, ctx: Context) -> str:
    """Each cell's test accuracy with its CI, in words."""
    return "; ".join(f"{ctx.setting(lv)}: {acc_text(mean_ci(g['test_acc']))}" for lv, g in cells(df, ctx)) or "no runs"


EXPECTATION = {LEARNS: "does not learn", NO_BETTER: "is better than chance", NO_INFO: "carries information"}


def level_check(what: str, df: pd.DataFrame, levels: dict, ctx: Context, test: str) -> Check:
    """Every cell of `df` must pass `test`: by its accuracy CI (LEARNS, NO_BETTER) or by every run's AUC interval
    (NO_INFO). `levels` say what a sweep would have to run when there is nothing to judge."""
    if df.empty:  # without a head to name, the heads no run has yet (the sweep measures their structure first)
        untried = ctx.words.untried("head")
        if "head" in levels or untried:
            return Check(what, NOT_MEASURED, "no run of this setting" + ("" if "head" in levels else
                         "; the heads not run yet may have the structure it needs"),
                         sweep_command(levels if "head" in levels else {"head": untried, **levels}, ctx))
        return Check(what, NOT_MEASURED, "no run of this setting, and every head of the config was run: only a head "
                     "of your own with the structure it needs would measure it")
    parts, bad, short, straddle = [], [], [], []
    for lv, g in cells(df, ctx):
        if test == NO_INFO:
            v, text = no_information(g), auc_text(g)
        else:
            ci = mean_ci(g["test_acc"])
            v, text = judge_cell(g, test), acc_text(ci)
            if v != level(ci, test):  # decided by the runs' AUC: say so
                text += f"; {auc_text(g)}, every interval inside the no-information band"
        parts.append(f"{ctx.setting(lv)}: {text}")
        if v == CONTRADICTED:
            bad.append(f"{ctx.setting(lv)} (runs {', '.join(g['run_id'])})")
        elif v == NOT_MEASURED:
            short.append((lv, len(g)))
        elif v == INCONCLUSIVE:
            straddle.append(ctx.setting(lv))
    evidence = "; ".join(parts) + f" ({rule(test)})"
    if bad:
        return Check(what, CONTRADICTED, f"{evidence}. Against the prediction, {' and '.join(bad)} {EXPECTATION[test]}.")
    if short:
        lack = ", ".join(f"{ctx.setting(lv)} (n = {n}, needs {MIN_SEEDS})" for lv, n in short)
        cmds = " && ".join(dict.fromkeys(sweep_command(lv, ctx) for lv in merged([{**levels, **_named(lv)} for lv, _ in short])))
        return Check(what, NOT_MEASURED, f"{evidence}. Too few seeds to judge: {lack}", cmds)
    if straddle:
        return Check(what, INCONCLUSIVE, f"{evidence}. The interval of {' and '.join(straddle)} straddles the line: "
                                         "more seeds (or more test pairs) would decide")
    return Check(what, SUPPORTED, evidence)


def merged(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cells that differ only in the head as one grid over those heads: the smallest sweep that fills them."""
    groups: dict[tuple, dict[str, Any]] = {}
    for lv in cells:
        key = tuple(sorted((k, plain(v) if not isinstance(v, (list, tuple)) else tuple(map(plain, v)))
                           for k, v in lv.items() if k != "head"))
        g = groups.setdefault(key, {**lv, "head": []})
        heads = lv.get("head")
        for h in (heads if isinstance(heads, (list, tuple)) else [heads] if heads is not None else []):
            if h not in g["head"]:
                g["head"].append(h)
    return [{k: v for k, v in g.items() if k != "head" or v} for g in groups.values()]


def _named(levels: dict[str, Any]) -> dict[str, Any]:
    """A cell's levels as a sweep command takes them (its class path is not an override)."""
    return {k: v for k, v in levels.items() if k in DOTTED}


def with_contrasts(check: Check, contrasts: list[Contrast]) -> Check:
    """A level check that also needs its contrasts significant in the predicted direction."""
    if not contrasts:
        return check
    verdict = combine([check.verdict, *(c.verdict for c in contrasts)])
    return Check(check.what, verdict, check.evidence + ". " + "; ".join(c.text for c in contrasts), check.command)


# ---------------------------------------------------------------- the command that measures a gap


NOT_OVERRIDES = ("code", "data.content")  # identity keys no command line sets


def sweep_command(levels: dict[str, Any], ctx: Context) -> str:
    """The `python -m ablation.sweep -m ...` that runs the given levels (lists become sweeps) in the report's
    fixed setting, leaving out every value that is the config's default (from the composed config)."""
    defaults = ctx.words.defaults
    args = []
    for f, v in {**levels, **{k: v for k, v in ctx.fixed.items() if k not in levels}}.items():
        overridable = f in DOTTED or ("." in f and not f.endswith("._target_"))
        if not overridable or f in ("seed", *NOT_OVERRIDES) or v is None:
            continue
        key = f if f in (*GROUPS, "depth") else DOTTED.get(f, f)
        values = list(v) if isinstance(v, (list, tuple)) else [v]
        spelled = f == "head" or (f == "convention" and "loss" in levels)  # the head always; a loss's own default
        # convention may differ from the config's
        if values == [defaults.get(f)] and not spelled:
            continue
        args.append(f"{key}={','.join(plain(x) for x in values)}")
    if "loss" in levels and "convention" not in levels and "convention" in defaults:
        args.append(f"{DOTTED['convention']}={plain(defaults['convention'])}")
    # a component of the user's own (not an option of the package's config groups) needs their config folder:
    # the one its runs were made with (recorded), else a comment says where it goes (pasted, it is ignored)
    own = {(g, plain(x)) for g, options in ctx.words.options.items() if options and g in levels
           for x in (levels[g] if isinstance(levels[g], (list, tuple)) else [levels[g]]) if str(x) not in options}
    folders = {ctx.words.folders.get(g, {}).get(x) for g, x in own}
    folder = [f"--config-dir={shlex.quote(folders.pop())}"] if len(folders) == 1 and None not in folders else []
    note = (f"  # add --config-dir with your folder that holds {', '.join(f'{g}/{x}.yaml' for g, x in sorted(own))}"
            if own and not folder else "")
    return " ".join(["python -m ablation.sweep -m", *folder, *args,
                     f"seed={','.join(str(s) for s in range(MIN_SEEDS))}"]) + note



def grid_of(command: str) -> tuple[tuple[str, ...], dict[str, frozenset[str]]] | None:
    """A suggested command's grid: (what is not a key=value: options, a comment), key → its values; None for
    several commands joined."""
    if " && " in command:
        return None
    body, _, note = command.partition("  # ")
    tokens = shlex.split(body)[4:]  # after `python -m ablation.sweep -m`
    flags = tuple(t for t in tokens if t.startswith("-") or "=" not in t) + (note,)
    return flags, {k: frozenset(v.split(",")) for k, v in (t.split("=", 1) for t in tokens
                                                           if not t.startswith("-") and "=" in t)}


def covers(big: str, small: str, ctx: Context) -> bool:
    """Whether every run of the command `small` is a run of `big` (a key left out is at the config's default)."""
    gb, gs = grid_of(big), grid_of(small)
    if gb is None or gs is None or gb[0] != gs[0]:
        return False
    d = ctx.words.defaults
    for k in gb[1].keys() | gs[1].keys():
        default = frozenset({plain(d.get(k, d.get(SHORT.get(k, k))))})
        if not gs[1].get(k, default) <= gb[1].get(k, default):
            return False
    return True
