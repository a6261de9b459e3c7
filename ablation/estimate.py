"""How long a planned sweep will take on this machine, per head × encoder: from the runs already on disk where the
results folder has some of that head × encoder, else of another head with that encoder and data set, else from a
short calibration (one epoch of one run, trained here and thrown away), once per encoder and data set: the encoder
on 784-pixel images costs far more than any head on its embeddings.

A run measured on disk scales with its epochs; a calibrated run is its fixed part (loading, measuring) plus its
epochs times the calibration epoch's seconds. Runs of one cell trained together (bundles) make a sweep faster than
the sum of its runs, so the total, divided by the launcher's parallel jobs, is an upper estimate.
"""

from __future__ import annotations

import copy
import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, open_dict

CALIBRATION_BUDGET_S = 60.0  # at most this long calibrating; combinations left over are named as not estimated


Cost = tuple[float, float]  # seconds of a run: (fixed, per epoch)


def on_disk(results_dir: str | Path) -> dict[tuple[str, str, str], list[float]]:
    """Seconds per epoch of every completed run under `results_dir`, by (head, encoder, data)."""
    out: dict[tuple[str, str, str], list[float]] = {}
    for f in Path(results_dir, "runs").glob("*/metrics.json"):
        try:
            rec = json.loads(f.read_text())
            fac, secs = rec["factors"], rec["metrics"]["wall_time_s"]
            if rec["status"] == "completed" and fac["epochs"] > 0:
                out.setdefault((fac["head"], fac["encoder"], fac["data"]), []).append(secs / fac["epochs"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # a damaged or older record: not a measurement
    return out


def calibrate(cfg: DictConfig) -> Cost:
    """(fixed, per-epoch) seconds of this config's run, measured by training it here for one epoch (nothing is
    written): the epoch's own seconds from its history, the rest of the run's time fixed."""
    from .train import train_bundle  # torch and the training code: only when a dry run must calibrate

    one = copy.deepcopy(cfg)
    with open_dict(one):
        one.train.epochs = 1
    t0 = time.perf_counter()
    (result,) = train_bundle([one])
    total = time.perf_counter() - t0
    epoch = float(result.history["seconds"].sum()) if "seconds" in result.history else total
    return total - epoch, epoch


def hms(s: float) -> str:
    s = int(round(s))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def estimate(runs: list[tuple[tuple[str, str, str], int]], samples: dict[tuple[str, str, str], DictConfig],
             results_dir: str | Path, parallel: int = 1) -> list[str]:
    """Lines saying how long the runs to train (each a (head, encoder, data) and its epochs) will take here.

    `samples`: a config of each (head, encoder, data), calibrated where no run on disk measured it."""
    if not runs:
        return []
    disk = on_disk(results_dir)
    measured: dict[tuple[str, str, str], Cost] = {k: (0.0, statistics.median(v)) for k, v in disk.items()}
    source = {k: f"median of {len(v)} runs on disk" for k, v in disk.items()}
    by_encoder: dict[tuple[str, str], tuple[list[float], list[str]]] = {}  # (encoder, data) → runs on disk, heads
    for (head, encoder, data), secs in disk.items():
        found = by_encoder.setdefault((encoder, data), ([], []))
        found[0].extend(secs)
        found[1].append(head)
    spent, calibrated = 0.0, {}
    for combo in dict.fromkeys(c for c, _ in runs):
        head, encoder, data = combo
        if combo not in measured and (encoder, data) in by_encoder:  # another head's runs of this encoder
            secs, heads = by_encoder[encoder, data]
            measured[combo] = (0.0, statistics.median(secs))
            source[combo] = f"median of {len(secs)} runs on disk with head={','.join(sorted(heads))}"
        if combo in measured or spent > CALIBRATION_BUDGET_S:
            continue
        if (encoder, data) not in calibrated:
            try:
                calibrated[encoder, data] = (calibrate(samples[combo]), head)
                spent += sum(calibrated[encoder, data][0])
            except Exception as e:  # noqa: BLE001 - an estimate never stops a dry run
                source[combo] = f"not estimated: the calibration failed ({type(e).__name__}: {e})"
                continue
        measured[combo], by = calibrated[encoder, data]
        source[combo] = f"1-epoch calibration with head={by}"
    epochs: dict[tuple[str, str, str], int] = Counter()
    count: dict[tuple[str, str, str], int] = Counter()
    for combo, n_epochs in runs:
        epochs[combo] += n_epochs
        count[combo] += 1
    seconds = {c: measured[c][0] * count[c] + measured[c][1] * epochs[c] for c in count if c in measured}
    total = sum(seconds.values())
    missing = sum(n for c, n in count.items() if c not in measured)
    at_once = f", {parallel} jobs at a time" if parallel > 1 else ""
    lines = [f"estimated time on this machine: {hms(total / max(parallel, 1))} for {len(runs) - missing} runs to train"
             f"{at_once}" + (f" (+ {missing} runs not estimated)" if missing else "") + "; per run, by head x encoder:"]
    for c in sorted(count):
        head, encoder, data = c
        per = f"{seconds[c] / count[c]:7.1f} s" if c in seconds else "      ? s"
        lines.append(f"  {head:<10} {encoder:<8} {data:<14} {count[c]:>4} runs x {per}  ({source.get(c, '')})")
    return lines


def parallel_jobs(launcher: Any) -> int:
    """How many jobs the launcher runs at once here, where it says (joblib's n_jobs); else 1."""
    n = launcher.get("n_jobs") if launcher is not None else None
    return n if isinstance(n, int) and n > 0 else 1
