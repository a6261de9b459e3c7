"""The per-head table (measured structure, prediction, verdict), the summary's intervals and the effects."""

import numpy as np
import pytest
from helpers.fakes import write_run
from helpers.reports import study

from ablation.report.judge import CONTRADICTED, SUPPORTED, mean_ci
from ablation.report.tables import head_table, head_table_words, summary


def test_each_head_depth_and_pair_order_has_its_structure_prediction_and_verdict(question):
    df, ctx = question
    t = head_table(df, ctx)
    rows = {(r.head, r.depth, r.pair_order, r.loss, r.convention, r.encoder): r for r in t.itertuples()}
    keras = ("contrastive", "distance", "mlp")
    assert rows[("sum", 0, "random", *keras)].structure == "additive, symmetric"
    assert rows[("sum", 0, "sorted", *keras)].prediction == "chance"  # symmetric: a fixed order gives it nothing
    assert rows[("concat", 0, "sorted", *keras)].prediction == "learns"
    assert rows[("subtract", 0, "random", *keras)].structure == "additive, antisymmetric"
    assert rows[("product", 0, "random", *keras)].structure.startswith("interacting, symmetric")
    assert rows[("subtract", 1, "random", *keras)].prediction == "learns"
    assert rows[("distance", 0, "random", "contrastive", "similarity", "mlp")].prediction == "no better than chance"
    assert set(t["verdict"]) == {SUPPORTED}
    words = head_table_words(t, ctx.words)
    assert list(words.columns)[-5:] == ["measured structure (at initialisation)", "prediction", "test accuracy [95 % CI]", "ROC AUC", "verdict"]


def test_a_head_that_does_not_do_what_its_structure_predicts_is_contradicted(tmp_path):
    def plant(runs_dir):
        for s in range(3):
            write_run(runs_dir, head="product", seed=s, n=2000, metrics={"test_acc": 0.5})
    df, ctx = study(tmp_path, [{"head": "subtract"}], more=[plant])
    t = head_table(df, ctx).set_index("head")
    assert t.loc["product", "verdict"] == CONTRADICTED and t.loc["subtract", "verdict"] == SUPPORTED


def test_the_summary_interval_is_the_t_interval_of_the_seeds(tmp_path):
    accs = [0.61, 0.65, 0.7]
    for s, a in enumerate(accs):
        write_run(tmp_path / "runs", head="subtract", seed=s, n=60, metrics={"test_acc": a})
    from ablation.report.load import load_runs
    row = summary(load_runs(tmp_path).runs).iloc[0]
    ci = mean_ci(accs)
    assert (row["acc_mean"], row["acc_lo"], row["acc_hi"]) == (pytest.approx(ci.mean), pytest.approx(ci.lo),
                                                              pytest.approx(ci.hi))
    assert row["n"] == 3 and not np.isnan(row["interaction_init"])
