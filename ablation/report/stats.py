"""Statistics on plain arrays: t confidence intervals, Welch's t-test (two- and one-sided), Holm's correction,
one- and two-way ANOVA (type II).

The two-way ANOVA is computed by least squares (nested models), so unbalanced designs and empty cells
are handled without statsmodels; for a balanced design it equals the textbook sums of squares.
A test whose groups have no variance has no p-value: it is reported as not testable (p = NaN), never as 0.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95  # confidence level of every interval in the report


@dataclass(frozen=True)
class MeanCI:
    mean: float
    lo: float
    hi: float
    n: int

    @property
    def half(self) -> float:
        return (self.hi - self.lo) / 2


def mean_ci(x: np.ndarray | pd.Series, level: float = LEVEL) -> MeanCI:
    """Mean and its t interval over replicates (seeds); no interval from fewer than two values."""
    x = np.asarray(pd.to_numeric(pd.Series(x), errors="coerce").dropna(), dtype=float)
    n = len(x)
    if n == 0:
        return MeanCI(np.nan, np.nan, np.nan, 0)
    m = float(x.mean())
    if n < 2:
        return MeanCI(m, np.nan, np.nan, 1)
    h = float(stats.t.ppf((1 + level) / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return MeanCI(m, m - h, m + h, n)


@dataclass(frozen=True)
class Test:
    name: str  # the test, as it is named in the report
    statistic: float
    df: str  # degrees of freedom as written ("2, 12")
    p: float
    effect: float = np.nan  # partial eta squared (ANOVA) or difference of means (t-test)


def testable(x: np.ndarray, y: np.ndarray) -> bool:
    """A t-test needs two values per group and some variance in at least one of them."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return len(x) >= 2 and len(y) >= 2 and not (np.var(x) == 0 and np.var(y) == 0)


def welch(x: np.ndarray, y: np.ndarray, alternative: str = "two-sided") -> Test:
    """Welch's two-sample t-test (unequal variances): does mean(y) differ from mean(x)?

    `alternative="greater"` tests one-sided that mean(y) > mean(x). Without variance in both groups (or with
    fewer than two values in one) there is no p-value: NaN, i.e. not testable.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    diff = float(y.mean() - x.mean()) if len(x) and len(y) else np.nan
    name = "Welch t-test" + (", one-sided" if alternative != "two-sided" else "")
    if not testable(x, y):
        return Test(name, np.nan, "", np.nan, diff)
    with warnings.catch_warnings():  # near-identical seeds: scipy warns, the result is still the right one
        warnings.simplefilter("ignore", RuntimeWarning)
        r = stats.ttest_ind(y, x, equal_var=False, alternative=alternative)
    return Test(name, float(r.statistic), f"{float(r.df):.1f}", float(r.pvalue), diff)


def holm(p: list[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values (NaN stays NaN and is not counted)."""
    idx = [i for i, v in enumerate(p) if not np.isnan(v)]
    m, out, running = len(idx), [np.nan] * len(p), 0.0
    for rank, i in enumerate(sorted(idx, key=lambda i: p[i])):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


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
    """Two-way ANOVA with interaction, type II sums of squares: {'a': ..., 'b': ..., 'a:b': ...}."""
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
