"""The line each finished run prints and, in a multirun, its count against the sweep's plan: `[k/N]` and an ETA.

The sweeper writes the plan (`start`: how many jobs, and when), every worker appends one line per finished run; both
files live in the multirun's own folder."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from ..config import factors
from ..estimate import hms
from ..factors import PROGRESS
from . import context

PROGRESS_FILE = "progress.jsonl"  # one line per finished job, appended by every worker
PLAN_FILE = "sweep.json"  # written by the sweeper: how many jobs and when the sweep started


def start(sweep_dir: Path, n: int) -> None:
    """The sweep's plan, for its workers' [k/N] and ETA (OSError where the folder cannot take it)."""
    sweep_dir.mkdir(parents=True, exist_ok=True)
    (sweep_dir / PLAN_FILE).write_text(json.dumps({"n": n, "t0": time.time()}))


def announce(summary: dict[str, Any], cfg: DictConfig) -> None:
    """Print one line per finished run; in a multirun also count it (progress.jsonl) for [k/N] and the ETA."""
    print(_progress_line(summary, cfg), flush=True)


def _progress_line(summary: dict[str, Any], cfg: DictConfig) -> str:
    f = factors(cfg)
    what = " ".join(f"{k}={f[k]}" for k in PROGRESS)
    m = summary.get("metrics") or {}
    key = f"test_acc={m['test_acc']:.3f}" if "test_acc" in m else summary.get("error") or summary.get("reason") or ""
    secs = f" ({m['wall_time_s']:.1f} s)" if summary["status"] != "reused" and "wall_time_s" in m else ""
    line = f"{summary['status']:<9} {summary['run_id']}  {what}  {key}{secs}"
    sweep = context.sweep_dir()
    if sweep is None:
        return line
    try:
        with open(sweep / PROGRESS_FILE, "a") as fh:  # O_APPEND: short lines from parallel workers don't interleave
            fh.write(json.dumps({"run_id": summary["run_id"], "status": summary["status"]}) + "\n")
    except OSError:  # progress only (a full disk): the run's own outcome is in its folder and its summary
        return line
    try:
        plan = json.loads((sweep / PLAN_FILE).read_text())
        k = sum(1 for _ in open(sweep / PROGRESS_FILE))
        elapsed = time.time() - plan["t0"]
        eta = elapsed / k * (plan["n"] - k)
        return f"[{k}/{plan['n']}] {line}  | elapsed {hms(elapsed)}, ETA {hms(eta)}"
    except (OSError, ValueError, KeyError, ZeroDivisionError):
        return line

