"""What the MLflow export takes from a run record, without MLflow: the parameters come from the record's
`identity` (dotted config keys) when it has one, else from config.yaml without the runtime keys; metrics
include every numeric value and the per-epoch history."""

import json

from ablation.tracking import metrics_of, params_of


def test_params_from_identity_when_the_record_has_it(tmp_path):
    (tmp_path / "config.yaml").write_text("seed: 9\noptimizer:\n  lr: 0.5\n")
    rec = {"factors": {"head": "subtract", "depth": 0, "seed": 1},
           "identity": {"head._target_": "ablation.heads.Subtract", "optimizer.lr": 0.001, "seed": 1}}
    p = params_of(rec, tmp_path)
    assert p["head"] == "subtract" and p["depth"] == "0"
    assert p["config.optimizer.lr"] == "0.001" and p["config.head._target_"] == "ablation.heads.Subtract"
    assert p["config.seed"] == "1"  # the identity, not config.yaml


def test_params_from_config_yaml_without_runtime_keys(tmp_path):
    (tmp_path / "config.yaml").write_text("seed: 9\nresults_dir: /x\nthreads: 2\noptimizer:\n  lr: 0.5\n"
                                          "data:\n  root: /data\n  pair_order: sorted\n")
    p = params_of({"factors": {"seed": 9}}, tmp_path)
    assert p == {"seed": "9", "config.seed": "9", "config.optimizer.lr": "0.5", "config.data.pair_order": "sorted"}


def test_metrics_take_numbers_and_the_history(tmp_path):
    (tmp_path / "history.csv").write_text("epoch,loss,test_acc,note\n1,0.5,0.6,a\n2,0.4,0.7,b\n")
    rec = {"metrics": {"test_acc": 0.7, "antisym_residual": None, "swap_gap": float("nan"), "epochs_run": 2,
                       "collapsed": True, "label": "x"}}
    m = metrics_of(json.loads(json.dumps(rec)), tmp_path, ts=123)
    assert ("test_acc", 0.7, 123, 0) in m and ("epochs_run", 2.0, 123, 0) in m and ("collapsed", 1.0, 123, 0) in m
    assert not any(k in ("antisym_residual", "swap_gap", "label") for k, *_ in m)
    assert [(k, v, s) for k, v, _, s in m if k.startswith("epoch.")] == [
        ("epoch.loss", 0.5, 1), ("epoch.loss", 0.4, 2), ("epoch.test_acc", 0.6, 1), ("epoch.test_acc", 0.7, 2)]
