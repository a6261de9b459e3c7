"""The edge where run folders become tables. Nothing here raises on a bad run: it becomes a row
with a status that says what is wrong (interrupted, unreadable), and the report lists it.

A row holds the run's factors by short name (`head`, `convention`, ...), every other key of its identity by its
dotted config key (`optimizer.lr`, `head._target_`, `data.content`), its `code` fingerprint and whether that is the
current code's (`code_current`), what its component classes declare (`weightless`, `bounded`, labels, the side
of "same"), its metrics, and the head's structure classified from its measurements at initialisation
(`additive`, `symmetric`, `antisymmetric`; NA where the run measured none). A record written before runs had an
identity loads with its factors only, as code "unknown". Every record is read through its schema
(ablation.run.record), which converts an older version explicitly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from hydra.errors import CompactHydraException

from ablation.factors import BY_NAME, NUMBERS, TEXTS
from ablation.identity import COMPONENT_GROUPS, code_fingerprint
from ablation.mechanism import classify
from ablation.run.record import DECLARED_STRUCTURE, EARLIER_RECIPE, FILE as RECORD, STATUSES as RECORD_STATUSES
from ablation.run.record import Record, damage, recorded
from ablation.schema import option_name

from .words import FACTORS, SHORT

RESIDUALS = ("interaction", "symmetry_residual", "antisymmetry_residual", "identical_spread", "logit_scale")
METRICS = (
    "train_acc", "test_acc", "test_acc_swapped", "test_acc_both_orders", "test_auc", "test_auc_lo", "test_auc_hi",
    "swap_gap", "swap_center", "score_std", "frac_pred_same", "neg_same_either_order", "pos_diff_either_order",
    "logit_std", *RESIDUALS, *(f"{r}_init" for r in RESIDUALS), "rectangles_all_right", "final_loss", "epochs_run",
    "n_train_pairs", "n_test_pairs", "n_params", "neg_smaller_first", "wall_time_s",
)
STATUSES = (*RECORD_STATUSES, "interrupted", "unreadable")
RECORDED = RECORD_STATUSES  # runs with a record: factors, identity, traits (the others are listed, never counted)
FLAGS = ("weightless", "bounded", "same_high", "loss_convex")  # declared by the classes; the loss's convexity measured
STRUCTURE = DECLARED_STRUCTURE  # measured: classified from the residuals at initialisation
TRAITS = (*FLAGS, "threshold", "head_label", "encoder_label", "loss_label", "data_label")
TEXT = pd.StringDtype("python")  # text columns: missing values as NA, rows sliced twice as fast as with Arrow's
TOP = "_identity_top"  # a row's top-level identity keys (not dotted), collected by `tidy`
UNKNOWN_CODE = "unknown"  # the code of a record written before runs recorded theirs
VERSIONS = ("ablation", "torch", "python")  # a record's `versions`: columns <name>_version (read, never a factor)
# What a run file that differs from its record leaves out of the report (its metrics are in the record)
LEFT_OUT = {"config.yaml": "nothing left out (the record holds the config)",
            "history.csv": "left out of the learning curves and the collapse figure",
            "scores.csv.gz": "left out of the score figures",
            "views.csv.gz": "left out of the image views figure",
            "error.txt": "nothing left out (the record holds the error)"}
COLUMNS = ("run_id", "status", "detail", "damaged", "files_checked", *FACTORS, "code", "code_current", *TRAITS,
           *STRUCTURE, *METRICS, "finished_at", *(f"{v}_version" for v in VERSIONS), "config_dir")


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
            "  python -m ablation.sweep -m +experiment=question hydra/launcher=parallel"
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
    out = {n: cls(f.group) if f.labelled else get(*f.key.split(".")) for n, f in BY_NAME.items() if n not in EARLIER_RECIPE}
    return {**out, **({g: option_name(g, get(g, "_target_")) for g in EARLIER_RECIPE} if get("optimizer") is not None
                      else EARLIER_RECIPE)}


def read_run(folder: Path) -> dict[str, Any]:
    """One run folder → one flat row (never raises)."""
    row: dict[str, Any] = {"run_id": folder.name}
    try:
        text = (folder / RECORD).read_text()
    except FileNotFoundError:
        return {**row, **factors_from_config(folder), "status": "interrupted", "detail": "no metrics.json: the run never finished"}
    except OSError as e:
        return {**row, **factors_from_config(folder), "status": "unreadable", "detail": f"metrics.json: {e.strerror or e}"}
    try:
        raw = json.loads(text)
        if not isinstance(raw, dict) or raw.get("status") not in RECORDED or not isinstance(raw.get("factors"), dict):
            raise ValueError("not a run record (needs a known status and the factors)")
        rec = Record.from_json(raw)
    except ValueError as e:
        return {**row, **factors_from_config(folder), "status": "unreadable", "detail": f"metrics.json: {e}"}
    ident = {k: v for k, v in (rec.identity or {}).items() if k not in SHORT or k.endswith("._target_")}  # short names: factors
    top = [k for k in ident if "." not in k and k != "code"]  # a top-level key of the user's config, e.g. `device`
    detail = rec.reason or rec.error or ""
    damaged = damage(folder, rec, full=True)  # every file hashed: the report is where a damaged run is named
    if damaged:
        row["damaged"] = "; ".join(f"{name} {what}: {LEFT_OUT.get(name, 'nothing left out')}"
                                   for name, what in damaged.items()) + "; the next sweep trains the run again"
    row["files_checked"] = rec.verifiable
    row.update({f"{v}_version": str(rec.versions[v]) for v in VERSIONS if rec.versions.get(v) is not None})
    row["config_dir"] = rec.config_dir  # the user's --config-dir: suggested commands name it
    return {**row, **ident, **rec.traits, **rec.factors, **(rec.metrics or {}), "code": str(rec.code or UNKNOWN_CODE),
            "status": rec.status, "detail": str(detail), "finished_at": rec.finished_at, **({TOP: top} if top else {})}


def _typed(col: pd.Series) -> pd.Series:
    """An identity column as its values are: whole numbers as Int64, numbers as floats, else as they are."""
    vals = col.dropna()
    if vals.empty:
        return col
    if all(isinstance(v, bool) for v in vals):
        return col.astype("boolean")
    if all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return col.astype("Int64")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return col.astype(float)
    return col


def identity_columns(runs: pd.DataFrame) -> list[str]:
    """The columns that hold identity keys beyond the short-name factors: every dotted key, and `code`."""
    return [c for c in runs.columns if "." in c or c == "code" or c in runs.attrs.get("identity_top", ())]


@lru_cache(maxsize=1)
def _builtin_heads() -> dict[str, type]:
    from ablation import heads  # imports torch (slow): only for records written before runs recorded traits
    from ablation.contract import name_of

    return {name_of(c): c for c in vars(heads).values() if isinstance(c, type) and issubclass(c, heads.Head)
            and c not in (heads.Head, heads.LearnedHead)}


def builtin_traits(head: str, convention: Any) -> dict[str, Any]:
    """What the built-in head class of that name declares, for a record that predates traits (none for others)."""
    from ablation.contract import HEAD_FLAGS, label_of

    cls = _builtin_heads().get(head)
    if cls is None:
        return {}
    return {**{f: bool(getattr(cls, f)) for f in HEAD_FLAGS}, "head_label": label_of(cls),
            "same_high": convention == "similarity"}


def structure(runs: pd.DataFrame) -> pd.DataFrame:
    """The measured structure columns, classified from each run's residuals at initialisation (NA: not measured)."""
    cols = {k: [] for k in STRUCTURE}
    init = [runs[f"{r}_init"] if f"{r}_init" in runs else pd.Series(np.nan, index=runs.index)
            for r in ("interaction", "symmetry_residual", "antisymmetry_residual")]
    for i, s, a in zip(*init):
        st = classify(None if pd.isna(i) else float(i), None if pd.isna(s) else float(s), None if pd.isna(a) else float(a))
        for k in STRUCTURE:
            cols[k].append(pd.NA if getattr(st, k) is None else getattr(st, k))
    return pd.DataFrame({k: pd.array(v, dtype="boolean") for k, v in cols.items()}, index=runs.index)


def current_code(runs: pd.DataFrame) -> pd.Series:
    """Whether each run's code fingerprint is the one the current code has for its component classes."""
    targets = [c for c in (f"{g}._target_" for g in COMPONENT_GROUPS) if c in runs]
    cache: dict[tuple, str] = {}
    out = []
    for code, *tg in zip(runs["code"], *(runs[c] for c in targets)):
        key = tuple(t for t in tg if not pd.isna(t))  # a group without a class (schedule=none) adds no code
        if pd.isna(code) or code == UNKNOWN_CODE or not key:
            out.append(False if not pd.isna(code) else pd.NA)
            continue
        if key not in cache:
            cache[key] = code_fingerprint(key)
        out.append(code == cache[key])
    return pd.Series(out, index=runs.index, dtype="boolean")


def tidy(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows → the runs table: known columns first (always present), then the identity keys, then other metrics."""
    top = sorted({k for r in rows for k in r.pop(TOP, ())} - set(COLUMNS))
    df = pd.DataFrame(rows)
    for col in COLUMNS:
        if col not in df:
            df[col] = pd.NA
    ident = sorted(c for c in df.columns if c not in COLUMNS and ("." in c or c in top))
    extra = sorted(c for c in df.columns if c not in COLUMNS and c not in ident)
    df = df[[*COLUMNS, *ident, *extra]]
    for col in (*NUMBERS, "threshold", *METRICS, *extra):
        df[col] = pd.to_numeric(df[col], errors="coerce")  # a garbled value becomes NaN, not a crash
    for col in ident:
        df[col] = _typed(df[col])
    for col in NUMBERS:
        df[col] = df[col].astype("Int64")
    df["files_checked"] = df["files_checked"].astype("boolean")
    for col in (*TEXTS, "status", "detail", "damaged", "code",
                "head_label", "encoder_label", "loss_label", "data_label", *(f"{v}_version" for v in VERSIONS)):
        df[col] = df[col].astype(TEXT)
    old = df["status"].isin(RECORDED) & df["bounded"].isna() & df["head"].notna()
    for i in df.index[old]:  # records from before traits: the built-in class of that name declares them
        for k, v in builtin_traits(df.at[i, "head"], df.at[i, "convention"]).items():
            df.at[i, k] = v
    for col in FLAGS:
        df[col] = df[col].astype("boolean")
    df[list(STRUCTURE)] = structure(df)
    df.loc[df["status"].isin(RECORDED) & df["threshold"].isna(), "threshold"] = 0.5  # every built-in loss's
    df["code_current"] = current_code(df)
    for col in df.columns:  # every other text column too (pandas would store it in Arrow: slower to slice)
        if pd.api.types.is_string_dtype(df[col]) and df[col].dtype != TEXT:
            df[col] = df[col].astype(TEXT)
    df = df.sort_values(["status", "run_id"], kind="stable").reset_index(drop=True)
    df.attrs["identity_top"] = tuple(top)
    return df


def load_runs(results_dir: str | Path, folders: list[Path] | None = None) -> Loaded:
    """Every run folder under `results_dir/runs` (or the given ones, from `run_folders`) as one table."""
    folders = run_folders(Path(results_dir)) if folders is None else folders
    return Loaded(tidy([read_run(f) for f in folders]), Path(results_dir) / "runs")


def read_per_run(runs_dir: Path, run_ids: list[str], name: str) -> pd.DataFrame:
    """Concatenate one per-run CSV (history.csv, scores.csv.gz) of the given runs; missing or bad files, and files
    that differ from their run's record (listed by the report as damaged), are skipped."""
    parts = []
    for rid in run_ids:
        if not recorded(runs_dir / rid, name):
            continue
        try:
            part = pd.read_csv(runs_dir / rid / name)
        except (OSError, ValueError, EOFError):  # missing, truncated or corrupt: the run still counts in the tables
            continue
        parts.append(part.assign(run_id=rid))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["run_id"])
