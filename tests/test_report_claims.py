"""Claims against runs: supported on runs that behave as docs/mechanism.md predicts; a contradicting run flips the
verdict; uncertainty decides (seeds, CIs against the lines, one-sided contrasts, no p-value without variance)."""

import numpy as np
import pytest
from fakes import SEED_QUESTION, write_run, write_study

from ablation.report.claims import check_claims, traits
from ablation.report.load import load_runs
from ablation.report.select import context, in_context
from ablation.report.stats import mean_ci
from ablation.report.tables import factor_effects, summary
from ablation.report.verdicts import (ALPHA, AT_CHANCE, CHANCE_BAND, CONTRADICTED, HOLDS, INCONCLUSIVE, MIN_SEEDS,
                                      NO_BETTER, NOT_MEASURED, NOT_TESTABLE, SUPPORTED, VIOLATED, WORKS, WORKS_ACC,
                                      contrast, level, sweep_command)


def verdicts(results):
    runs = load_runs(results).runs
    claims = check_claims(in_context(runs), context(runs))
    return {c.number: c for c in claims}


@pytest.fixture
def study(tmp_path):
    write_study(tmp_path, seeds=3, n=100)
    return tmp_path


def test_runs_that_behave_as_predicted_support_every_claim(study):
    claims = verdicts(study)
    assert {n: c.verdict for n, c in claims.items()} == {1: HOLDS, 2: HOLDS, 3: HOLDS, 4: SUPPORTED, 5: SUPPORTED, 6: SUPPORTED}
    assert [c.sanity for c in claims.values()] == [True, True, True, False, False, False]
    assert "over the test pairs of" in claims[1].checks[0].evidence  # numbers behind the verdict
    assert "95 % CI" in claims[5].checks[0].evidence and "Holm-adjusted" in claims[5].checks[2].evidence


@pytest.mark.parametrize("planted, claim, check", [
    # one run that breaks an invariant is a bug, whatever the seeds
    ({"head": "subtract", "seed": 9, "metrics": {"antisym_residual": 0.3}}, 1, "2c"),
    ({"head": "subtract", "seed": 9, "metrics": {"test_acc_both_orders": 0.81}}, 3, "both orders"),
    ({"head": "absdiff", "seed": 9, "metrics": {"swap_gap": 0.2}}, 1, "symmetric head"),
    ({"head": "absdiff", "seed": 9, "metrics": {"neg_smaller_first": 0.9}}, 2, "half"),
])
def test_a_run_that_breaks_an_invariant_is_flagged_as_a_bug(study, planted, claim, check):
    folder = write_run(study / "runs", **planted)
    c = verdicts(study)[claim]
    assert c.verdict == VIOLATED
    bad = [k for k in c.checks if k.verdict == VIOLATED]
    assert bad and check in bad[0].what and folder.name in bad[0].evidence


def plant(study, accs, **cell):
    """Replace a cell's three seeds by runs with these test accuracies."""
    return [write_run(study / "runs", seed=s, metrics={"test_acc": a}, **cell) for s, a in enumerate(accs)]


@pytest.mark.parametrize("cell, accs, claim, check", [
    # subtract without a hidden layer that learns on random-order pairs: against the collapse and the convention claims
    ({"head": "subtract"}, [0.90, 0.92, 0.93], 4, "contrastive"),
    ({"head": "subtract"}, [0.90, 0.92, 0.93], 6, "subtract fails"),
    ({"head": "subtract", "pair_order": "sorted"}, [0.20, 0.22, 0.21], 5, "control"),
    ({"head": "distance", "convention": "similarity"}, [0.97, 0.98, 0.99], 6, "same → high"),
    ({"head": "absdiff"}, [0.60, 0.62, 0.61], 5, "symmetric heads work"),
])
def test_a_contradicting_cell_flips_the_verdict(study, cell, accs, claim, check):
    plant(study, accs, **cell)
    c = verdicts(study)[claim]
    assert c.verdict == CONTRADICTED
    bad = [k for k in c.checks if k.verdict == CONTRADICTED]
    assert bad and check in bad[0].what


def test_level_verdicts_turn_at_the_ci_lines():
    lo, hi = CHANCE_BAND
    works_above = mean_ci([0.85, 0.86, 0.87])  # lower bound ≈ 83.5 %
    works_straddle = mean_ci([0.80, 0.82, 0.84])  # mean 82 % but lower bound ≈ 77 %
    assert works_above.lo >= WORKS_ACC > works_straddle.lo and works_straddle.mean > WORKS_ACC
    assert level(works_above, WORKS) == SUPPORTED and level(works_straddle, WORKS) == INCONCLUSIVE
    assert level(mean_ci([0.60, 0.65, 0.70]), WORKS) == CONTRADICTED
    inside, straddle, outside = mean_ci([0.49, 0.50, 0.51]), mean_ci([0.50, 0.53, 0.56]), mean_ci([0.40, 0.41, 0.42])
    assert lo <= inside.lo and inside.hi <= hi and straddle.lo < hi < straddle.hi
    assert [level(x, AT_CHANCE) for x in (inside, straddle, outside)] == [SUPPORTED, INCONCLUSIVE, CONTRADICTED]
    assert level(mean_ci([0.50, 0.53, 0.56]), NO_BETTER) == INCONCLUSIVE
    assert level(mean_ci([0.92, 0.93]), WORKS) == NOT_MEASURED  # n = 2 < MIN_SEEDS, however clear
    assert MIN_SEEDS == 3


def test_a_mean_above_the_line_with_a_wide_ci_does_not_work(study):
    plant(study, [0.85, 0.86, 0.87], head="absdiff")
    assert verdicts(study)[5].checks[0].verdict == SUPPORTED
    plant(study, [0.62, 0.81, 1.0], head="absdiff")  # mean 81 %, CI ≈ [34 %, 128 %]
    k = verdicts(study)[5].checks[0]
    assert k.verdict == INCONCLUSIVE and "straddles" in k.evidence and verdicts(study)[5].verdict == INCONCLUSIVE


def test_a_ci_straddling_the_chance_band_edge_is_inconclusive(study):
    plant(study, [0.50, 0.53, 0.56], head="subtract", encoder="cnn")
    k = next(k for k in verdicts(study)[4].checks if "CNN" in k.what)
    assert k.verdict == INCONCLUSIVE


def test_contrasts_are_one_sided_welch_and_decide_only_when_significant():
    up = contrast("after > before", [0.50, 0.51, 0.49], [0.86, 0.88, 0.87])
    assert up.test.p < ALPHA and up.test.name == "Welch t-test, one-sided"
    from ablation.report.verdicts import adjust
    [up] = adjust([up])
    assert up.verdict == SUPPORTED
    [flat] = adjust([contrast("noise", [0.50, 0.52, 0.48], [0.56, 0.50, 0.54])])
    assert flat.test.p > ALPHA and flat.verdict == INCONCLUSIVE
    [down] = adjust([contrast("the wrong way", [0.86, 0.88, 0.87], [0.50, 0.51, 0.49])])
    assert down.verdict == CONTRADICTED
    [const] = adjust([contrast("no variance", [0.5, 0.5, 0.5], [0.9, 0.9, 0.9])])
    assert np.isnan(const.test.p) and const.verdict == NOT_TESTABLE and "not testable" in const.text
    [short] = adjust([contrast("two seeds", [0.5, 0.5], [0.9, 0.91])])
    assert short.verdict == NOT_MEASURED


def test_holm_makes_a_contrast_pay_for_its_family():
    from ablation.report.stats import holm
    from ablation.report.verdicts import adjust
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    out = holm([np.nan, 0.02])
    assert np.isnan(out[0]) and out[1] == pytest.approx(0.02)  # a contrast without a p-value is not counted
    alone = contrast("alone", [0.50, 0.52, 0.48, 0.51], [0.55, 0.58, 0.53, 0.56])
    other = contrast("other", [0.50, 0.52, 0.48, 0.51], [0.52, 0.55, 0.50, 0.53])
    assert alone.test.p < ALPHA
    [alone_adj, _] = adjust([alone, other])
    assert alone_adj.p_adj >= alone.test.p


def test_a_contrast_without_variance_is_not_testable_and_not_supported(study):
    plant(study, [0.5, 0.5, 0.5], head="subtract")
    plant(study, [0.9, 0.9, 0.9], head="subtract", depth=1)
    c = verdicts(study)[5]
    k = next(k for k in c.checks if "hidden layer" in k.what)
    assert k.verdict == NOT_TESTABLE and "no variance" in k.evidence and "p = 0" not in k.evidence
    assert c.verdict == NOT_TESTABLE


def test_two_seeds_per_cell_is_not_measured_with_the_command(tmp_path):
    write_study(tmp_path, seeds=2, n=100)
    claims = verdicts(tmp_path)
    for c in claims.values():
        if not c.sanity:
            assert c.verdict == NOT_MEASURED
            for k in c.checks:
                assert k.verdict == NOT_MEASURED and "needs 3" in k.evidence and k.command.endswith("seed=0,1,2")
        else:
            assert c.verdict == HOLDS  # invariants are per run: two seeds are enough to catch a bug
    cnn = next(k for k in claims[4].checks if "CNN" in k.what)
    assert "n = 2, needs 3" in cnn.evidence and "encoder=cnn" in cnn.command


def test_traits_columns_override_the_built_in_heads(study):
    runs = in_context(load_runs(study).runs)
    t = traits(runs)
    assert t.loc[t["head"] == "absdiff", "symmetric"].all() and t.loc[t["head"] == "subtract", "antisymmetric"].all()
    runs = runs.assign(symmetric=runs["head"].eq("subtract"))  # a table that says otherwise wins
    assert traits(runs).loc[runs["head"] == "subtract", "symmetric"].all()


def test_a_missing_setting_is_not_measured_with_the_command_that_measures_it(tmp_path):
    cells = [c for c in SEED_QUESTION if c.get("pair_order") != "sorted" and c.get("encoder") != "cnn"]
    write_study(tmp_path, cells, seeds=2, n=100)
    claims = verdicts(tmp_path)
    ctl = next(k for k in claims[5].checks if "control" in k.what)
    assert claims[5].verdict == NOT_MEASURED and ctl.verdict == NOT_MEASURED
    assert ctl.command == "python -m ablation.sweep -m head=subtract data.pair_order=random,sorted seed=0,1,2"
    cnn = next(k for k in claims[4].checks if "CNN" in k.what)
    assert cnn.verdict == NOT_MEASURED and "encoder=cnn" in cnn.command


def test_sweep_command_names_only_what_differs_from_the_defaults():
    assert sweep_command({"head": "subtract", "depth": [0, 1]}, {"data": "mnist5k", "epochs": 5}) == \
        "python -m ablation.sweep -m head=subtract depth=0,1 train.epochs=5 seed=0,1,2"
    assert "loss.convention=distance" in sweep_command({"head": "absdiff", "loss": "bce"}, {})


def test_summary_ci_and_effects_match_a_hand_computation(study):
    accs = [0.90, 0.93, 0.95]
    for seed, acc in zip(range(20, 23), accs):
        write_run(study / "runs", head="sqdiff", seed=seed, metrics={"test_acc": acc})
    runs = load_runs(study).runs
    row = summary(runs).query("head == 'sqdiff'").iloc[0]
    from scipy import stats
    half = stats.t.ppf(0.975, 2) * np.std(accs, ddof=1) / np.sqrt(3)
    assert row["n"] == 3 and row["acc_mean"] == pytest.approx(np.mean(accs))
    assert (row["acc_lo"], row["acc_hi"]) == pytest.approx((np.mean(accs) - half, np.mean(accs) + half))
    eff = factor_effects(in_context(runs)).set_index("effect")
    inter = eff.loc["head × hidden layers after the merge interaction"]
    assert inter["test"] == "two-way ANOVA (type II)" and inter["p"] < 0.01  # depth rescues subtract only
    assert eff.loc["main effect of pair order", "test"] == "Welch t-test"  # varied for subtract alone
    assert WORKS_ACC > 0.5
