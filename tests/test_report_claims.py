"""Claims against runs: supported on runs that behave as DESIGN §2 predicts; a contradicting run flips the verdict."""

import numpy as np
import pytest
from fakes import SEED_QUESTION, write_run, write_study

from ablation.report.claims import check_claims
from ablation.report.load import load_runs
from ablation.report.select import context, in_context
from ablation.report.tables import factor_effects, summary
from ablation.report.verdicts import CONTRADICTED, NOT_MEASURED, SUPPORTED, WORKS_ACC, sweep_command


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
    assert {n: c.verdict for n, c in claims.items()} == {n: SUPPORTED for n in range(1, 7)}
    assert "over the test pairs of" in claims[1].checks[0].evidence  # numbers behind the verdict


@pytest.mark.parametrize("planted, claim, check", [
    # a subtract head without a hidden layer that learns on random-order pairs breaks the collapse and convention claims
    ({"head": "subtract", "seed": 9, "metrics": {"test_acc": 0.93, "score_std": 0.4}}, 4, "contrastive"),
    ({"head": "subtract", "seed": 9, "metrics": {"test_acc": 0.93}}, 6, "subtract fails"),
    ({"head": "subtract", "seed": 9, "metrics": {"antisym_residual": 0.3}}, 1, "2c"),
    ({"head": "subtract", "seed": 9, "metrics": {"test_acc_both_orders": 0.81}}, 3, "both orders"),
    ({"head": "absdiff", "seed": 9, "metrics": {"swap_gap": 0.2}}, 1, "symmetric head"),
    ({"head": "absdiff", "seed": 9, "metrics": {"neg_smaller_first": 0.9}}, 2, "half"),
    ({"head": "subtract", "pair_order": "sorted", "seed": 9, "metrics": {"test_acc": 0.0}}, 5, "control"),
    ({"head": "distance", "convention": "similarity", "seed": 9, "metrics": {"test_acc": 1.0}}, 6, "same → high"),
])
def test_a_contradicting_run_flips_the_verdict(study, planted, claim, check):
    folder = write_run(study / "runs", **planted)
    c = verdicts(study)[claim]
    assert c.verdict == CONTRADICTED
    bad = [k for k in c.checks if k.verdict == CONTRADICTED]
    assert bad and check in bad[0].what
    assert folder.name in bad[0].evidence or "Against the prediction" in bad[0].evidence


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
