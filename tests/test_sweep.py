"""The core contract: one resolved config → one run folder, through Hydra's multirun."""

import json
import re

import pandas as pd
import pytest
from conftest import FAST, cli, make_cfg, records

from ablation.config import run_id
from ablation.run.worker import execute

pytestmark = pytest.mark.slow


def test_multirun_writes_one_result_per_job(results):
    p = cli("-m", "head=distance,subtract,absdiff", "depth=0,1", *FAST, f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    recs = records(results)
    assert len(recs) == 6
    status = sorted((r["factors"]["head"], r["factors"]["depth"], r["status"]) for r in recs.values())
    assert status == [("absdiff", 0, "completed"), ("absdiff", 1, "completed"), ("distance", 0, "completed"),
                      ("distance", 1, "skipped"), ("subtract", 0, "completed"), ("subtract", 1, "completed")]
    skipped = next(r for r in recs.values() if r["status"] == "skipped")
    assert "no weights" in skipped["reason"]
    assert not (results / "runs" / skipped["run_id"] / "history.csv").exists()  # nothing was trained
    for rid, rec in recs.items():
        if rec["status"] != "completed":
            continue
        folder = results / "runs" / rid
        hist = pd.read_csv(folder / "history.csv")
        assert list(hist.epoch) == [1] and {"loss", "train_acc", "test_acc", "seconds"} <= set(hist.columns)
        scores = pd.read_csv(folder / "scores.csv.gz")
        assert len(scores) == rec["metrics"]["n_test_pairs"] and {"s_ab", "s_ba", "label"} <= set(scores.columns)
        assert "head:" in (folder / "config.yaml").read_text()
    assert "[5/5]" in p.stdout and "1 skipped" in p.stdout  # progress and summary


def test_rerun_reuses_finished_runs_without_training(results):
    args = ("-m", "head=subtract,absdiff", *FAST, f"results_dir={results}")
    assert cli(*args).returncode == 0
    before = {f: f.stat().st_mtime_ns for f in (results / "runs").glob("*/metrics.json")}
    p = cli(*args, "seed=0")  # a different command, the same configs
    assert p.returncode == 0, p.stderr
    assert "2 reused" in p.stdout and "0 to train" in p.stdout
    assert before == {f: f.stat().st_mtime_ns for f in (results / "runs").glob("*/metrics.json")}


def test_dry_run_lists_the_grid_and_trains_nothing(results):
    p = cli("-m", "head=distance,subtract", "depth=0,1", "dry_run=true", f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    assert "4 runs: 3 to train, 0 reused, 1 skipped" in p.stdout
    assert p.stdout.count("train     ") == 3
    assert not (results / "runs").exists()


def test_before_anything_trains_each_head_and_depth_is_measured_and_its_prediction_printed(results):
    p = cli("-m", "head=subtract,sum,product", "depth=0,1", "data.pair_order=random,sorted", "dry_run=true",
            f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split("structure at initialisation")[1].splitlines()[1:]
    by_head = {line.split(":")[0].strip(): line for line in lines if ", depth " in line}
    assert len(by_head) == 6  # one line per head × depth
    assert "additive in its two inputs, antisymmetric → random order: predicted chance" in by_head["subtract, depth 0"]
    assert "sorted order: predicted learns" in by_head["subtract, depth 0"]
    assert "additive in its two inputs, symmetric" in by_head["sum, depth 0"] and by_head["sum, depth 0"].count("chance") == 2
    for head in ("sum, depth 1", "subtract, depth 1", "product, depth 0"):
        assert "interacting" in by_head[head] and "random and sorted order: predicted learns" in by_head[head]
    assert not (results / "runs").exists()


def test_same_config_and_seed_twice_gives_identical_metrics(tmp_path):
    recs = []
    for name in ("a", "b"):
        cfg = make_cfg("head=subtract", "depth=1", "train.epochs=2", f"results_dir={tmp_path / name}")
        assert execute(cfg)["status"] == "completed"
        recs.append(json.loads((tmp_path / name / "runs" / run_id(cfg) / "metrics.json").read_text()))
    m0, m1 = (dict(r["metrics"], wall_time_s=None) for r in recs)
    assert m0 == m1
    other = make_cfg("head=subtract", "depth=1", "train.epochs=2", "seed=1", f"results_dir={tmp_path / 'c'}")
    assert execute(other)["metrics"]["test_acc"] != m0["test_acc"]


def test_subtract_depth0_diagnostics_on_a_real_run(results):
    cfg = make_cfg("head=subtract", *FAST, f"results_dir={results}")
    m = execute(cfg)["metrics"]
    for when in ("_init", ""):  # measured in float64 on the model, before and after training
        assert m[f"interaction{when}"] < 1e-12 and m[f"antisymmetry_residual{when}"] < 1e-12  # additive, antisymmetric
        assert m[f"symmetry_residual{when}"] > 0.1
    assert m["rectangles_all_right"] == 0.0  # theorem 1
    assert m["test_acc_both_orders"] <= 0.75 + 1e-9  # theorem 3
    assert max(m["neg_same_either_order"], m["pos_diff_either_order"]) == 1.0
    assert m["test_auc_lo"] <= m["test_auc"] <= m["test_auc_hi"]
    absdiff = execute(make_cfg("head=absdiff", *FAST, f"results_dir={results}"))["metrics"]
    assert absdiff["swap_gap"] < 1e-6 and absdiff["symmetry_residual_init"] < 1e-12
    assert absdiff["interaction_init"] > 1e-3 and absdiff["antisymmetry_residual_init"] > 1e-3
    assert absdiff["rectangles_all_right"] > 0


def test_bce_on_an_unbounded_distance_is_skipped(results):
    s = execute(make_cfg("head=distance", "loss=bce", f"results_dir={results}"))
    assert s["status"] == "skipped" and "unbounded" in s["reason"]


@pytest.mark.parametrize("extra", [[], ["data.split_seed=${seed}"]], ids=["plain", "seed-interpolated"])
def test_planned_run_ids_equal_each_config_composed_alone(results, extra):
    """The planner checks a cell's further seeds from its first; an interpolation of the seed elsewhere must
    still give every run the id its config alone gives, and a bad seed is still reported."""
    p = cli("-m", "head=distance,subtract", "seed=0,1,2", *extra, "dry_run=true", f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    planned = set(re.findall(r"^\s+train\s+([0-9a-f]{12})\s", p.stdout, re.M))
    alone = {run_id(make_cfg(f"head={h}", f"seed={s}", *extra, f"results_dir={results}"))
             for h in ("distance", "subtract") for s in (0, 1, 2)}
    assert planned == alone and len(alone) == 6
    bad = cli("-m", "head=subtract", "seed=0,-1", *extra, "dry_run=true", f"results_dir={results}")
    assert bad.returncode != 0 and "seed must be an integer >= 0, got -1" in bad.stdout + bad.stderr
