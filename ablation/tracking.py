"""Run folders → MLflow: one MLflow run per run folder, under one parent run that holds the report.

One writer (this process, sequentially) into a local SQLite store by default: several processes writing one
SQLite store at once hit "database is locked" and migration races, so sweeps never write to MLflow
themselves; `python -m ablation.export` copies what they wrote, as often as you like.

Idempotent: every MLflow run carries the tag `ablation.run_id` and is looked up by it before anything is
created, so re-exporting updates runs in place and never duplicates them. A run whose folder has not changed
since the last export (same digest of its files) is left alone. Metrics are logged with the run's own
finish time as timestamp, so logging a record again adds no new points to its history.

`mlflow` is an optional extra (pip install -e ".[mlflow]") and is imported only here.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
import yaml

from .identity import NON_IDENTITY as RUNTIME  # not what a run measures
from .run import record
from .run.record import EXPORTED as RUN_FILES

RUN_TAG = "ablation.run_id"
ROLE_TAG = "ablation.role"  # "run" or "report" (the parent)
DIGEST_TAG = "ablation.digest"
MLFLOW_STATUS = {"completed": "FINISHED", "skipped": "FINISHED", "failed": "FAILED", "diverged": "FAILED"}
PARAM_LIMIT, METRIC_LIMIT = 100, 1000  # MLflow's log_batch limits per call


class ExportError(RuntimeError):
    """Nothing can be exported (no mlflow, no run folders)."""


@dataclass
class Exported:
    tracking_uri: str
    experiment_id: str
    parent_id: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # interrupted or unreadable: no finished record
    report: str | None = None  # the report folder logged on the parent run

    def summary(self) -> str:
        left = f", {len(self.left_out)} left out (not finished)" if self.left_out else ""
        return f"{len(self.created)} created, {len(self.updated)} updated, {len(self.unchanged)} unchanged{left}"


def flatten(node: Any, prefix: str = "") -> dict[str, Any]:
    """{'train': {'epochs': 3}} → {'train.epochs': 3}; lists kept as JSON."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for k, v in node.items():
            out.update(flatten(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: json.dumps(node) if isinstance(node, list) else node}


def params_of(rec: dict[str, Any], folder: Path) -> dict[str, str]:
    """Every factor (the report's short names) and every config key the identity covers, as strings.

    The identity (dotted config keys → values) when the record has it, else the run's config.yaml."""
    params = {str(k): v for k, v in (rec.get("factors") or {}).items()}
    identity = rec.get("identity")
    if not isinstance(identity, dict):
        try:
            identity = flatten(yaml.safe_load((folder / "config.yaml").read_text()) or {})
        except (OSError, yaml.YAMLError, AttributeError):
            identity = {}
        identity = {k: v for k, v in identity.items() if k not in RUNTIME}
    params.update({f"config.{k}": v for k, v in flatten(identity).items()})
    return {k: ("" if v is None else str(v))[:6000] for k, v in params.items()}


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, (int, float)) and math.isfinite(v):
        return float(v)
    return None


def _ms(stamp: Any, default: int) -> int:
    try:
        return int(datetime.strptime(str(stamp), "%Y-%m-%dT%H:%M:%S%z").timestamp() * 1000)
    except ValueError:
        return default


def metrics_of(rec: dict[str, Any], folder: Path, ts: int) -> list[tuple[str, float, int, int]]:
    """(key, value, timestamp, step): the record's metrics (diagnostics included) at step 0, and every
    numeric column of history.csv as `epoch.<column>` at step = epoch."""
    out = []
    for k, v in (rec.get("metrics") or {}).items():
        x = _number(v)
        if x is not None:
            out.append((str(k), x, ts, 0))
    try:
        hist = pd.read_csv(folder / "history.csv")
    except (OSError, ValueError, EOFError):
        hist = pd.DataFrame()
    if len(hist):
        steps = hist["epoch"] if "epoch" in hist else pd.Series(range(1, len(hist) + 1))
        for col in hist.columns:
            if col == "epoch" or not pd.api.types.is_numeric_dtype(hist[col]):
                continue
            for step, v in zip(steps, hist[col]):
                x = _number(v.item() if hasattr(v, "item") else v)
                if x is not None:
                    out.append((f"epoch.{col}", x, ts, int(step)))
    return out


def digest(folder: Path) -> str:
    """What the export copies from a run folder; a change (a redone run) means the MLflow run is updated."""
    h = hashlib.sha256()
    for name in RUN_FILES:
        p = folder / name
        if p.is_file():
            h.update(name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _existing(client: Any, experiment_id: str) -> tuple[dict[str, Any], Any]:
    """ablation run_id → MLflow run (active runs of the experiment), and the parent (report) run or None."""
    from mlflow.entities import ViewType

    by_id: dict[str, Any] = {}
    parent, token = None, None
    for _ in range(100_000):  # bounded: pages of 1,000 runs
        page = client.search_runs([experiment_id], run_view_type=ViewType.ACTIVE_ONLY, max_results=1000,
                                  page_token=token)
        for r in page:
            role, rid = r.data.tags.get(ROLE_TAG), r.data.tags.get(RUN_TAG)
            if role == "report":
                parent = parent or r
            elif rid:
                by_id.setdefault(rid, r)
        token = page.token
        if not token:
            break
    return by_id, parent


def _log(client: Any, run_id: str, params: dict[str, str], metrics: list, tags: dict[str, str],
         have: dict[str, str]) -> None:
    from mlflow.entities import Metric, Param, RunTag

    new_params = [Param(k, v) for k, v in params.items() if k not in have]  # MLflow params never change
    for chunk in _chunks(new_params, PARAM_LIMIT):
        client.log_batch(run_id, params=chunk)
    for chunk in _chunks([Metric(k, v, ts, step) for k, v, ts, step in metrics], METRIC_LIMIT):
        client.log_batch(run_id, metrics=chunk)
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])


def _run_name(rec: dict[str, Any], rid: str) -> str:
    f = rec.get("factors") or {}
    bits = [f"{f.get('head')} depth={f.get('depth')}", f"{f.get('loss')}/{f.get('convention')}",
            f"{f.get('encoder')}", f"{f.get('pair_order')}", f"seed={f.get('seed')}"]
    return " ".join(str(b) for b in bits) + f" [{rid}]"


def export(results_dir: str | Path, tracking_uri: str, experiment: str, report_dir: str | Path | None = None,
           artifact_dir: str | Path | None = None, artifacts: bool = True) -> Exported:
    """Copy every finished run folder under `results_dir/runs` (and the report folder, if any) into MLflow."""
    try:
        from mlflow import MlflowClient
    except ImportError as e:
        raise ExportError('the MLflow export needs mlflow: pip install -e ".[mlflow]"') from e

    runs_dir = Path(results_dir) / "runs"
    folders = sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if runs_dir.is_dir() else []
    if not folders:
        raise ExportError(f"no run folders under {str(runs_dir)!r}: nothing to export")
    client = MlflowClient(tracking_uri=tracking_uri)
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        location = Path(artifact_dir).resolve().as_uri() if artifact_dir else None
        experiment_id = client.create_experiment(experiment, artifact_location=location)
    else:
        experiment_id = exp.experiment_id
    by_id, parent = _existing(client, experiment_id)
    now = int(time.time() * 1000)
    if parent is None:
        parent = client.create_run(experiment_id, run_name="ablation report", start_time=now,
                                   tags={ROLE_TAG: "report"})
    parent_id = parent.info.run_id
    out = Exported(tracking_uri, experiment_id, parent_id)

    for folder in folders:
        read = record.read(folder)
        if read is None or read.status not in MLFLOW_STATUS:
            out.left_out.append(folder.name)
            continue
        rec = read.to_json()
        rid = str(rec.get("run_id") or folder.name)
        d = digest(folder)
        old = by_id.get(rid)
        if old is not None and old.data.tags.get(DIGEST_TAG) == d:
            out.unchanged.append(rid)
            continue
        end = _ms(rec.get("finished_at"), now)
        wall = _number((rec.get("metrics") or {}).get("wall_time_s")) or 0.0
        if old is None:
            mlflow_id = client.create_run(experiment_id, run_name=_run_name(rec, rid), start_time=end - int(wall * 1000),
                                          tags={RUN_TAG: rid, ROLE_TAG: "run", "mlflow.parentRunId": parent_id}).info.run_id
            out.created.append(rid)
        else:
            mlflow_id = old.info.run_id
            out.updated.append(rid)
        tags = {"ablation.status": str(rec["status"])}
        for key in ("reason", "error"):
            if rec.get(key):
                tags[f"ablation.{key}"] = str(rec[key])[:5000]
        if old is not None:
            client.update_run(mlflow_id, status="RUNNING")  # reopened to be updated
        _log(client, mlflow_id, params_of(rec, folder), metrics_of(rec, folder, end), tags,
             dict(old.data.params) if old is not None else {})
        if artifacts:
            for name in RUN_FILES:
                if (folder / name).is_file():
                    client.log_artifact(mlflow_id, str(folder / name))
        client.set_tag(mlflow_id, DIGEST_TAG, d)  # last: an export cut short is redone next time
        client.set_terminated(mlflow_id, status=MLFLOW_STATUS[rec["status"]], end_time=end)

    report = Path(report_dir) if report_dir else None
    if report is not None and (report / "report.md").is_file():
        if artifacts:
            client.log_artifacts(parent_id, str(report), artifact_path="report")
        out.report = str(report)
    _log(client, parent_id, {}, [], {"ablation.results_dir": str(Path(results_dir).resolve()),
                                     "ablation.runs": str(len(folders) - len(out.left_out))}, {})
    client.set_terminated(parent_id, status="FINISHED", end_time=now)
    return out


def default_uri(results_dir: str | Path) -> str:
    return "sqlite:///" + str((Path(results_dir) / "mlflow" / "mlflow.db").resolve())

