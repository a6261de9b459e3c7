"""The report's statistics against hand computations."""

import numpy as np
import pytest
from scipy import stats

from ablation.report.stats import mean_ci, one_way, two_way, welch


def test_mean_ci_is_the_t_interval_by_hand():
    x = np.array([0.91, 0.94, 0.925, 0.90])
    ci = mean_ci(x)
    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / np.sqrt(4)
    assert ci.n == 4 and ci.mean == pytest.approx(x.mean())
    assert (ci.lo, ci.hi) == pytest.approx((x.mean() - half, x.mean() + half))


def test_mean_ci_of_one_seed_has_no_interval_and_nan_is_ignored():
    assert np.isnan(mean_ci([0.5]).lo) and mean_ci([0.5]).n == 1
    assert mean_ci([0.5, np.nan, 0.7]).n == 2
    assert mean_ci([]).n == 0


def test_welch_matches_scipy_and_reports_the_difference():
    a, b = np.array([0.49, 0.51, 0.50]), np.array([0.85, 0.87, 0.86])
    t = welch(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert t.p == pytest.approx(ref.pvalue) and t.effect == pytest.approx(b.mean() - a.mean())


def test_one_way_matches_scipy():
    groups = [np.array([1.0, 2, 3]), np.array([2.0, 3, 4.5]), np.array([5.0, 6, 6.5])]
    assert one_way(groups).p == pytest.approx(stats.f_oneway(*groups).pvalue)


def test_two_way_balanced_equals_textbook_sums_of_squares():
    rng = np.random.default_rng(0)
    a = np.repeat(["x", "y"], 6)
    b = np.tile(np.repeat(["p", "q", "r"], 2), 2)
    y = rng.normal(size=12) + (a == "y") * 2 + (b == "r") * 1 + ((a == "y") & (b == "q")) * 3
    res = two_way(y, a, b)
    grand = y.mean()
    ma = {k: y[a == k].mean() for k in "xy"}
    mb = {k: y[b == k].mean() for k in "pqr"}
    cell = {(i, j): y[(a == i) & (b == j)].mean() for i in "xy" for j in "pqr"}
    ss_a = 6 * sum((m - grand) ** 2 for m in ma.values())
    ss_b = 4 * sum((m - grand) ** 2 for m in mb.values())
    ss_ab = 2 * sum((cell[i, j] - ma[i] - mb[j] + grand) ** 2 for i in "xy" for j in "pqr")
    ss_e = sum(((y[(a == i) & (b == j)] - cell[i, j]) ** 2).sum() for i in "xy" for j in "pqr")
    for key, ss, df in (("a", ss_a, 1), ("b", ss_b, 2), ("a:b", ss_ab, 2)):
        f = (ss / df) / (ss_e / 6)
        assert res[key].statistic == pytest.approx(f)
        assert res[key].p == pytest.approx(stats.f.sf(f, df, 6))
        assert res[key].df == f"{df}, 6"


def test_two_way_with_an_empty_cell_drops_its_degree_of_freedom():
    a = np.array(["x", "x", "x", "x", "y", "y"])
    b = np.array(["p", "p", "q", "q", "p", "p"])  # (y, q) never run, like the distance head at depth 1
    res = two_way(np.array([1.0, 1.2, 2.0, 2.1, 3.0, 3.3]), a, b)
    assert res["a:b"].df == "" and np.isnan(res["a:b"].p)  # no interaction is estimable
    assert res["a"].df == "1, 3" and 0 <= res["a"].p <= 1


def test_no_variance_means_no_p_value_never_zero():
    const_a, const_b = np.array([0.5, 0.5, 0.5]), np.array([0.9, 0.9, 0.9])
    for alt in ("two-sided", "greater"):
        t = welch(const_a, const_b, alt)
        assert np.isnan(t.p) and t.effect == pytest.approx(0.4)
    assert np.isnan(one_way([const_a, const_b]).p)
    a, b = np.repeat(["x", "y"], 4), np.tile(np.repeat(["p", "q"], 2), 2)
    y = np.where(a == "x", 0.5, 0.9) + np.where(b == "q", 0.1, 0.0)  # every cell constant: no residual variance
    assert all(np.isnan(r.p) for r in two_way(y, a, b).values())


def test_one_sided_welch_halves_the_two_sided_p_in_the_predicted_direction():
    a, b = np.array([0.49, 0.51, 0.50]), np.array([0.55, 0.58, 0.53])
    two, up, down = welch(a, b), welch(a, b, "greater"), welch(b, a, "greater")
    assert up.p == pytest.approx(two.p / 2) and down.p == pytest.approx(1 - two.p / 2)
