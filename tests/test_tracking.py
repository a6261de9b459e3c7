"""`python -m ablation.export` into a real MLflow SQLite store, from real one-epoch runs: every factor a
parameter, the metrics with their diagnostics and per-epoch history, the run folders as artefacts, the report
on a parent run; re-exporting creates nothing twice and updates a redone run in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import FAST, cli
from helpers.extras import require

pytestmark = pytest.mark.slow
mlflow = require("mlflow", "mlflow is not installed: pip install -e '.[mlflow]' to run this test")

from ablation.tracking import RUN_TAG, export  # noqa: E402

FACTORS = ("head", "depth", "encoder", "loss", "convention", "pair_order", "data", "seed", "epochs")


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """3 trained runs and a skipped one, an interrupted folder, and the report (tables only)."""
    results = tmp_path_factory.mktemp("study") / "results"
    p = cli("-m", "head=distance,subtract", "depth=0,1", *FAST, f"results_dir={results}")
    assert p.returncode == 0, p.stderr
    r = cli(f"results_dir={results}", "plots=false", module="ablation.report")
    assert r.returncode == 0, r.stderr
    (results / "runs" / "0123456789ab").mkdir()  # interrupted: config.yaml only, no metrics.json
    (results / "runs" / "0123456789ab" / "config.yaml").write_text("seed: 0\n")
    return results


def runs_of(client, exp_id: str) -> list:
    return client.search_runs([exp_id], max_results=1000)


def test_export_to_sqlite_then_reexport_is_idempotent(study, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    p = cli(f"results_dir={study}", f"tracking_uri={uri}", f"artifact_dir={tmp_path / 'artifacts'}",
            module="ablation.export")
    assert p.returncode == 0, p.stderr
    assert "4 created, 0 updated, 0 unchanged, 1 left out (not finished)" in p.stdout
    assert "report: logged on parent run" in p.stdout

    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("siamese-ablation")
    runs = runs_of(client, exp.experiment_id)
    parent = [r for r in runs if r.data.tags.get("ablation.role") == "report"]
    children = [r for r in runs if r.data.tags.get("ablation.role") == "run"]
    assert len(parent) == 1 and len(children) == 4
    report = {a.path for a in client.list_artifacts(parent[0].info.run_id, "report")}
    assert {"report/report.md", "report/report.html", "report/runs.csv", "report/summary.csv"} <= report

    metrics = {json.loads((study / "runs" / r.data.tags[RUN_TAG] / "metrics.json").read_text())["run_id"]: r
               for r in children}
    assert set(metrics) == {f.name for f in (study / "runs").iterdir()} - {"0123456789ab"}
    for rid, r in metrics.items():
        rec = json.loads((study / "runs" / rid / "metrics.json").read_text())
        assert r.data.tags["mlflow.parentRunId"] == parent[0].info.run_id
        assert r.data.tags["ablation.status"] == rec["status"]
        for f in FACTORS:  # every factor a parameter, with the record's value
            assert r.data.params[f] == str(rec["factors"][f])
        assert r.data.params["config.optimizer.lr"] == "0.001" and "config.results_dir" not in r.data.params
        files = {a.path for a in client.list_artifacts(r.info.run_id)}
        if rec["status"] == "skipped":
            assert r.info.status == "FINISHED" and "no weights" in r.data.tags["ablation.reason"]
            assert files == {"config.yaml", "metrics.json"}
            continue
        assert files == {"config.yaml", "history.csv", "scores.csv.gz", "metrics.json"}
        numbers = {k: v for k, v in rec["metrics"].items() if isinstance(v, (int, float)) and v == v}
        assert {"test_acc", "test_auc", "swap_gap", "score_std", "test_acc_both_orders", "frac_pred_same"} <= set(numbers)
        for k, v in numbers.items():  # every metric, the diagnostics included
            assert r.data.metrics[k] == pytest.approx(v)
        history = client.get_metric_history(r.info.run_id, "epoch.test_acc")
        assert [(h.step, h.value) for h in history] == [(1, pytest.approx(rec["metrics"]["test_acc"], abs=1e-6))]  # history.csv keeps 7 digits
        assert {"epoch.loss", "epoch.train_acc"} <= set(r.data.metrics)

    # Again: nothing created, nothing logged twice.
    again = export(study, uri, "siamese-ablation", report_dir=study / "report")
    assert (len(again.created), len(again.updated), len(again.unchanged)) == (0, 0, 4)
    assert again.parent_id == parent[0].info.run_id
    assert len(runs_of(client, exp.experiment_id)) == 5

    # A run redone with other results (same identity, new record): updated in place, still one MLflow run.
    rid = next(rid for rid, r in metrics.items() if r.data.tags["ablation.status"] == "completed")
    path = study / "runs" / rid / "metrics.json"
    rec = json.loads(path.read_text())
    rec["metrics"]["test_acc"] = 0.123
    rec["finished_at"] = "2099-01-01T00:00:00+0000"
    path.write_text(json.dumps(rec))
    third = export(study, uri, "siamese-ablation", report_dir=study / "report")
    assert (third.created, third.updated) == ([], [rid])
    after = runs_of(client, exp.experiment_id)
    assert len(after) == 5
    assert next(r for r in after if r.data.tags.get(RUN_TAG) == rid).data.metrics["test_acc"] == 0.123
    assert len(client.get_metric_history(metrics[rid].info.run_id, "epoch.test_acc")) == 2  # the two attempts
