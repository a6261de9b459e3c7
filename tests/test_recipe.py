"""The training recipe as components: the optimizer and the learning-rate schedule by `_target_`, on every path
that trains (a lone run, a bundle of seeds, a model the stacked trainer cannot run)."""

import math

import pandas as pd
import pytest
from conftest import TINY, cli, make_cfg, records

from ablation import recipe
from ablation.config import ConfigError, factors, run_id, validate
from ablation.train import train, train_bundle

RMSPROP_ONLY = ["~optimizer.alpha", "~optimizer.eps", "~optimizer.weight_decay", "~optimizer.momentum",
                "~optimizer.centered"]  # the rmsprop option's own keys, for a class that takes other ones
NORMALISED = [*RMSPROP_ONLY, "optimizer._target_=helpers.optimizers.NormalisedSGD", "optimizer.lr=0.01"]


def same_result(a, b) -> None:
    assert a.status == b.status
    assert dict(a.metrics, wall_time_s=None) == dict(b.metrics, wall_time_s=None)
    pd.testing.assert_frame_equal(a.history.drop(columns="seconds"), b.history.drop(columns="seconds"), check_exact=True)
    pd.testing.assert_frame_equal(a.scores, b.scores, check_exact=True)


def test_the_default_recipe_is_the_earlier_hand_written_rmsprop_bit_for_bit():
    """torch.optim.RMSprop with the Keras values updates as the project's own RMSprop did, op for op: the runs of the
    default recipe keep their numbers (a reference implementation of that update, helpers.optimizers.KerasRMSprop)."""
    cell = ["head=subtract", "depth=1", *TINY, "train.epochs=2"]
    default = train_bundle([make_cfg(*cell, f"seed={s}") for s in (0, 1)])
    earlier = train_bundle([make_cfg(*cell, f"seed={s}", "optimizer._target_=helpers.optimizers.KerasRMSprop")
                            for s in (0, 1)])
    for a, b in zip(default, earlier):
        same_result(a, b)


@pytest.mark.parametrize("recipe_overrides", [
    ["optimizer=adam", "optimizer.weight_decay=0.01"],
    ["optimizer=sgd"],
    ["schedule=step", "schedule.step_size=1", "train.epochs=2"],
], ids=["adam", "sgd", "rmsprop+step"])
def test_runs_trained_together_are_bit_identical_to_each_alone_for_every_elementwise_optimizer(recipe_overrides):
    cfgs = [make_cfg("head=subtract", "depth=1", *TINY, *recipe_overrides, f"seed={s}") for s in (0, 1, 2)]
    assert recipe.elementwise(cfgs[0])
    bundle = train_bundle(cfgs)
    for cfg, together in zip(cfgs, bundle):
        same_result(train(cfg), together)
    assert bundle[0].metrics["test_acc"] != bundle[1].metrics["test_acc"]  # three different models


def test_whether_an_update_is_elementwise_is_measured_on_the_optimizer():
    assert all(recipe.elementwise(make_cfg(f"optimizer={o}")) for o in ("rmsprop", "adam", "sgd"))
    adafactor = ["optimizer._target_=torch.optim.Adafactor", *RMSPROP_ONLY]
    assert not recipe.elementwise(make_cfg(*adafactor))  # scales by a norm over the whole tensor
    assert not recipe.elementwise(make_cfg(*NORMALISED))


def test_an_optimizer_that_is_not_elementwise_trains_each_run_of_a_bundle_alone():
    cfgs = [make_cfg("head=subtract", *TINY, *NORMALISED, f"seed={s}") for s in (0, 1)]
    bundle = train_bundle(cfgs)
    for cfg, together in zip(cfgs, bundle):
        same_result(train(cfg), together)
    assert bundle[0].metrics["test_acc"] != bundle[1].metrics["test_acc"]


def test_an_optimizer_that_evaluates_the_loss_several_times_a_step_trains():
    cfg = make_cfg("head=subtract", *TINY, *RMSPROP_ONLY, "optimizer._target_=torch.optim.LBFGS",
                   "optimizer.lr=0.1", "+optimizer.max_iter=2", "+optimizer.history_size=2")
    result = train(cfg)
    assert result.status == "completed" and math.isfinite(result.history["loss"].iloc[-1])


@pytest.mark.parametrize("schedule, expect", [
    (["schedule=cosine"], lambda lr, e, n: lr * (1 + math.cos(math.pi * e / n)) / 2),
    (["schedule=step", "schedule.step_size=1", "schedule.gamma=0.5"], lambda lr, e, n: lr * 0.5 ** e),
    ([], lambda lr, e, n: lr),
], ids=["cosine", "step", "none"])
def test_a_schedule_sets_each_epochs_learning_rate(schedule, expect):
    n = 3
    cfg = make_cfg("head=subtract", "train.epochs=3", "train.batch_size=500", *schedule)
    result = train(cfg)
    lr = cfg.optimizer.lr
    assert result.history["lr"].tolist() == pytest.approx([expect(lr, e, n) for e in range(n)], rel=1e-12)


def test_a_schedule_changes_the_run():
    plain, cosine = (train(make_cfg("head=subtract", "train.epochs=2", "train.batch_size=500", *s))
                     for s in ([], ["schedule=cosine"]))
    assert plain.metrics["final_loss"] != cosine.metrics["final_loss"]


@pytest.mark.parametrize("overrides, says", [
    (["optimizer.lr=-1"], "Invalid learning rate"),
    (["optimizer=adam", "optimizer.betas=[0.9,1.5]"], "Invalid beta parameter"),
    (["optimizer._target_=torch.optim.NoSuchOptimizer"], "optimizer"),
    (["schedule=cosine", "schedule.T_max=0"], "schedule 'torch.optim.lr_scheduler.CosineAnnealingLR'"),
])
def test_a_recipe_that_cannot_be_built_is_refused_before_training(overrides, says):
    with pytest.raises(ConfigError, match=says):
        validate(make_cfg(*overrides), check_data=False, check_output=False)


def test_the_optimizer_and_the_schedule_are_factors_of_the_run_and_in_its_identity():
    base, adam, cosine = (make_cfg(*o) for o in ([], ["optimizer=adam"], ["schedule=cosine"]))
    assert (factors(base)["optimizer"], factors(base)["schedule"]) == ("rmsprop", "none")
    assert factors(adam)["optimizer"] == "adam" and factors(cosine)["schedule"] == "cosine"
    assert len({run_id(base), run_id(adam), run_id(cosine), run_id(make_cfg("optimizer.weight_decay=0.1"))}) == 4


@pytest.mark.slow
def test_a_users_own_optimizer_from_their_config_folder_is_swept_and_reported(tmp_path):
    conf = tmp_path / "my_conf" / "optimizer"
    conf.mkdir(parents=True)
    (conf / "normsgd.yaml").write_text("_target_: helpers.optimizers.NormalisedSGD\n_partial_: true\nlr: 0.01\n")
    results = tmp_path / "results"
    p = cli("-m", f"--config-dir={tmp_path / 'my_conf'}", "head=subtract", "optimizer=normsgd,adam", "seed=0,1",
            "train.epochs=1", f"results_dir={results}", "progress=false", cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    alone = [line for line in p.stdout.splitlines() if "not element-wise" in line]
    assert len(alone) == 1 and "helpers.optimizers.NormalisedSGD" in alone[0] and "Adam" not in alone[0]
    recs = records(results).values()
    assert sorted((r["factors"]["optimizer"], r["status"], "bundle" in r) for r in recs) == [
        ("adam", "completed", True), ("adam", "completed", True),
        ("normalisedsgd", "completed", False), ("normalisedsgd", "completed", False)]
    r = cli(f"results_dir={results}", "plots=false", module="ablation.report", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    summary = pd.read_csv(results / "report" / "summary.csv")
    assert set(summary["optimizer"]) == {"adam", "normalisedsgd"}
