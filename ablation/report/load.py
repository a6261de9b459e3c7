"""The edge where run folders become tables. Nothing here raises on a bad run: it becomes a row
with a status that says what is wrong (interrupted, unreadable), and the report lists it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hydra.errors import CompactHydraException

from .labels import FACTORS

METRICS = (
    "train_acc", "test_acc", "test_acc_swapped", "test_acc_both_orders", "test_auc", "swap_gap", "score_std",
    "frac_pred_same", "neg_same_either_order", "pos_diff_either_order", "logit_std", "antisym_residual",
    "head_bias", "final_loss", "epochs_run", "n_train_pairs", "n_test_pairs", "n_params", "neg_smaller_first",
    "wall_time_s",
)
STATUSES = ("completed", "skipped", "failed", "diverged", "interrupted", "unreadable")
COLUMNS = ("run_id", "status", "detail", *FACTORS, *METRICS, "finished_at")


class ReportError(CompactHydraException):
    """The results folder cannot give a report (missing, empty, unreadable): the CLI prints this and exits 1."""


@dataclass(frozen=True)
class Loaded:
    runs: pd.DataFrame  # one row per run folder, COLUMNS first; status says which rows hold measurements
    runs_dir: Path


def run_folders(results_dir: Path) -> list[Path]:
    """Every run folder under `results_dir/runs`, or a ReportError saying why there is none."""
    runs_dir = Path(results_dir) / "runs"
    if not Path(results_dir).is_dir():
        raise ReportError(f"results folder {str(results_dir)!r} does not exist (set results_dir=...)")
    try:
        folders = sorted(p for p in runs_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    except FileNotFoundError:
        folders = []
    except OSError as e:
        raise ReportError(f"cannot read {str(runs_dir)!r}: {e.strerror or e}") from e
    if not folders:
        raise ReportError(
            f"no run folders under {str(runs_dir)!r}: nothing to report. Run the study first, e.g.\n"
            "  python -m ablation.sweep -m +experiment=seed_question hydra/launcher=parallel"
        )
    return folders


def factors_from_config(folder: Path) -> dict[str, Any]:
    """Best-effort factors of a run without a readable record, from its config.yaml (class names, lower case)."""
    try:
        cfg = yaml.safe_load((folder / "config.yaml").read_text())
    except (OSError, yaml.YAMLError):
        return {}
    if not isinstance(cfg, dict):
        return {}

    def get(*path: str) -> Any:
        node: Any = cfg
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        return node

    cls = lambda group: str(get(group, "_target_")).rsplit(".", 1)[-1].lower() if get(group, "_target_") else None  # noqa: E731
    return {"head": cls("head"), "depth": get("depth"), "encoder": cls("encoder"), "loss": cls("loss"),
            "convention": get("loss", "convention"), "pair_order": get("data", "pair_order"), "data": cls("data"),
            "seed": get("seed"), "epochs": get("train", "epochs")}


def read_run(folder: Path) -> dict[str, Any]:
    """One run folder → one flat row (never raises)."""
    row: dict[str, Any] = {"run_id": folder.name}
    try:
        text = (folder / "metrics.json").read_text()
    except FileNotFoundError:
        return {**row, **factors_from_config(folder), "status": "interrupted", "detail": "no metrics.json: the run never finished"}
    except OSError as e:
        return {**row, **factors_from_config(folder), "status": "unreadable", "detail": f"metrics.json: {e.strerror or e}"}
    try:
        rec = json.loads(text)
        if not isinstance(rec, dict) or rec.get("status") not in STATUSES[:4] or not isinstance(rec.get("factors"), dict):
            raise ValueError("not a run record (needs a known status and the factors)")
    except ValueError as e:
        return {**row, **factors_from_config(folder), "status": "unreadable", "detail": f"metrics.json: {e}"}
    metrics = rec.get("metrics") if isinstance(rec.get("metrics"), dict) else {}
    detail = rec.get("reason") or rec.get("error") or ""
    return {**row, **rec["factors"], **metrics, "status": rec["status"], "detail": str(detail),
            "finished_at": rec.get("finished_at")}


def tidy(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows → the runs table: known columns first (always present), numbers as numbers, one row per run."""
    df = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in df:
            df[col] = pd.NA
    extra = sorted(c for c in df.columns if c not in COLUMNS)
    df = df[[*COLUMNS, *extra]]
    for col in ("depth", "seed", "epochs", *METRICS, *extra):
        df[col] = pd.to_numeric(df[col], errors="coerce")  # a garbled value becomes NaN, not a crash
    for col in ("depth", "seed", "epochs"):
        df[col] = df[col].astype("Int64")
    for col in ("head", "encoder", "loss", "convention", "pair_order", "data", "status", "detail"):
        df[col] = df[col].astype("string")
    return df.sort_values(["status", "run_id"], kind="stable").reset_index(drop=True)


def load_runs(results_dir: str | Path) -> Loaded:
    """Every run folder under `results_dir/runs` as one table."""
    folders = run_folders(Path(results_dir))
    return Loaded(tidy([read_run(f) for f in folders]), Path(results_dir) / "runs")


def read_per_run(runs_dir: Path, run_ids: list[str], name: str) -> pd.DataFrame:
    """Concatenate one per-run CSV (history.csv, scores.csv.gz) of the given runs; missing or bad files are skipped."""
    parts = []
    for rid in run_ids:
        try:
            part = pd.read_csv(runs_dir / rid / name)
        except (OSError, ValueError, EOFError):  # missing, truncated or corrupt: the run still counts in the tables
            continue
        parts.append(part.assign(run_id=rid))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["run_id"])
