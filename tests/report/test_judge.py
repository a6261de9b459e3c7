"""The statistics and the verdict rules: intervals against scipy, Welch and Holm by hand, the level and
no-information rules at their edges, contrasts, and the commands built from the config's defaults."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ablation.report.judge import (CONTRADICTED, INCONCLUSIVE, LEARNS, NO_BETTER, NO_INFO_BAND, NOT_MEASURED,
                                   NOT_TESTABLE, SUPPORTED, MeanCI, adjust, combine, contrast, holm, level, mean_ci,
                                   no_information, p_text, sweep_command, welch)
from ablation.report.select import Context
from ablation.report.words import Words

DEFAULTS = {"head": "distance", "depth": 0, "encoder": "mlp", "loss": "contrastive", "convention": "distance",
            "pair_order": "random", "data": "mnist5k", "epochs": 20, "optimizer.lr": 0.001}


def test_mean_ci_is_the_t_interval():
    x = np.array([0.91, 0.93, 0.95])
    ci = mean_ci(x)
    lo, hi = stats.t.interval(0.95, 2, loc=x.mean(), scale=stats.sem(x))
    assert (ci.lo, ci.hi, ci.n) == (pytest.approx(lo), pytest.approx(hi), 3)
    assert np.isnan(mean_ci([0.5]).lo) and mean_ci([]).n == 0


def test_welch_and_holm_against_scipy_and_by_hand():
    a, b = [0.5, 0.51, 0.49], [0.9, 0.91, 0.93]
    t = welch(a, b, "greater")
    assert t.p == pytest.approx(stats.ttest_ind(b, a, equal_var=False, alternative="greater").pvalue)
    assert np.isnan(welch([0.5, 0.5], [0.5, 0.5]).p)  # no variance: not testable, never p = 0
    assert holm([0.01, 0.04, np.nan, 0.03]) == pytest.approx([0.03, 0.06, np.nan, 0.06], nan_ok=True)
    assert p_text(np.nan) == "not testable" and p_text(1e-9) == "< 1e-6" and p_text(0.0123) == "= 0.012"


@pytest.mark.parametrize("ci, test, verdict", [
    (MeanCI(0.7, 0.56, 0.84, 3), LEARNS, SUPPORTED),  # a 3-epoch control at 70 % learns: no fixed 80 % line
    (MeanCI(0.5, 0.45, 0.55, 3), LEARNS, CONTRADICTED),
    (MeanCI(0.6, 0.5, 0.7, 3), LEARNS, INCONCLUSIVE),
    (MeanCI(0.9, 0.85, 0.95, 2), LEARNS, NOT_MEASURED),
    (MeanCI(0.48, 0.46, 0.5, 3), NO_BETTER, SUPPORTED),
    (MeanCI(0.7, 0.6, 0.8, 3), NO_BETTER, CONTRADICTED),
])
def test_a_level_is_judged_by_its_interval(ci, test, verdict):
    assert level(ci, test) == verdict


def test_no_information_is_judged_per_run_by_its_auc_interval():
    a, b = NO_INFO_BAND
    inside = pd.DataFrame({"test_auc_lo": [a + 0.02] * 3, "test_auc_hi": [b - 0.02] * 3})
    assert no_information(inside) == SUPPORTED
    assert no_information(inside.iloc[:2]) == NOT_MEASURED
    straddle = inside.assign(test_auc_hi=[b - 0.02, b + 0.01, b - 0.02])
    assert no_information(straddle) == INCONCLUSIVE
    outside = inside.assign(test_auc_lo=[a + 0.02, b + 0.1, a + 0.02], test_auc_hi=[b - 0.02, b + 0.2, b - 0.02])
    assert no_information(outside) == CONTRADICTED  # one run that plainly carries information decides


def test_contrasts_and_combining_verdicts():
    up = contrast("more", [0.5, 0.51, 0.49], [0.9, 0.91, 0.93])
    down = contrast("less", [0.9, 0.91, 0.93], [0.5, 0.51, 0.49])
    flat = contrast("same", [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
    up, down, flat = adjust([up, down, flat])
    assert (up.verdict, down.verdict, flat.verdict) == (SUPPORTED, CONTRADICTED, NOT_TESTABLE)
    assert "Holm-adjusted p" in up.text and "no variance" in flat.text
    assert combine([SUPPORTED, INCONCLUSIVE]) == INCONCLUSIVE and combine([]) == NOT_MEASURED
    assert combine([NOT_MEASURED, CONTRADICTED]) == CONTRADICTED


def test_a_sweep_command_leaves_out_the_config_defaults_and_keeps_the_fixed_setting():
    ctx = Context({"data": "mnist5k", "epochs": 3, "optimizer.lr": 0.003}, Words(defaults=DEFAULTS))
    assert sweep_command({"head": ["subtract", "sum"], "pair_order": ["random", "sorted"]}, ctx) == (
        "python -m ablation.sweep -m head=subtract,sum data.pair_order=random,sorted train.epochs=3 optimizer.lr=0.003 "
        "seed=0,1,2")
    default = Context({"data": "mnist5k", "epochs": 20, "optimizer.lr": 0.001, "code": "abc"}, Words(defaults=DEFAULTS))
    assert sweep_command({"head": "subtract", "loss": "bce"}, default) == (
        "python -m ablation.sweep -m head=subtract loss=bce loss.convention=distance seed=0,1,2")  # bce's own default differs
    options = {"head": ["distance", "subtract"]}
    own = Context({"data": "mnist5k"}, Words(defaults=DEFAULTS, options=options,
                                             folders={"head": {"cosine": "/home/me/my conf"}}))
    assert sweep_command({"head": ["cosine", "distance"]}, own) == (  # a user's head: the folder its runs recorded
        "python -m ablation.sweep -m --config-dir='/home/me/my conf' head=cosine,distance seed=0,1,2")
    assert "--config-dir" not in sweep_command({"head": ["subtract", "distance"]}, own)
    unknown = Context({"data": "mnist5k"}, Words(defaults=DEFAULTS, options=options))  # runs from before it was recorded
    assert sweep_command({"head": ["cosine", "distance"]}, unknown) == (  # where it goes, as a comment the shell skips
        "python -m ablation.sweep -m head=cosine,distance seed=0,1,2  # add --config-dir with your folder that holds "
        "head/cosine.yaml")
