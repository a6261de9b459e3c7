"""How long the sweeper takes to plan a 1,200-run grid (compose, validate, identify every run): target ≤ 5 s.

    python benchmarks/plan_speed.py [--repeats 3] [--against REV] [--finished]

Runs a dry run of every factor crossed with 5 seeds in a fresh interpreter and reads the sweeper's own
"planned in X s" line (the planning alone, without interpreter start-up). With `--finished` every run of the
grid first gets a finished record, so the dry run timed resolves 1,200 finished runs (all reused) instead of
an empty folder's (all to train, each with its claim checked). With `--against REV` (e.g. an older commit) it
checks that revision out into a temporary worktree and alternates the two, so load from elsewhere hits both
alike: read the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from against import ROOT, verdict, worktree

LIMIT_S = 5.0
GRID = ["head=distance,subtract,absdiff,sqdiff,concat", "depth=0,1,2", "loss=contrastive,bce",
        "loss.convention=distance,similarity", "encoder=mlp,cnn", "data.pair_order=random,sorted", "seed=0,1,2,3,4"]


def dry_run(checkout: Path, results: Path) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "ablation.sweep", "-m", *GRID, "dry_run=true", f"results_dir={results}"],
                       cwd=checkout, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(checkout), "HOME": str(Path.home())},
                       capture_output=True, text=True, timeout=600)
    if p.returncode or "planned in" not in p.stdout:
        raise SystemExit(f"dry run failed in {checkout}:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return p


# A run's files, at the sizes a one-epoch MLP run on the embedded data writes (bytes)
FILE_SIZES = {"config.yaml": 563, "history.csv": 105, "scores.csv.gz": 32882, "views.csv.gz": 9112}


def finish_all(checkout: Path, results: Path) -> None:
    """A finished record for every run the grid lists, as a sweep would have left it: its files, and the record
    listing each one's size and hash (a revision whose records list none ignores the list)."""
    sys.path.insert(0, str(ROOT))
    from ablation.run.record import file_record

    listing = dry_run(checkout, results).stdout
    for rid in re.findall(r"^  (?:train|skip) +([0-9a-f]{12})  ", listing, re.M):
        folder = results / "runs" / rid
        folder.mkdir(parents=True, exist_ok=True)
        for name, size in FILE_SIZES.items():
            (folder / name).write_bytes(os.urandom(size))
        rec = {"run_id": rid, "status": "completed", "files": file_record(folder)}
        (folder / "metrics.json").write_text(json.dumps(rec))


def plan_seconds(checkout: Path, results: Path, finished: bool = False) -> tuple[float, int, int]:
    """Planning time, runs in the grid, and how many of them were reused."""
    if finished:
        finish_all(checkout, results)
    out = dry_run(checkout, results).stdout
    m = re.search(r"sweep: (\d+) runs: \d+ to train, (\d+) reused.*\(planned in ([\d.]+) s\)", out)
    return float(m.group(3)), int(m.group(1)), int(m.group(2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--against", help="another revision to time alternately (e.g. 74eca6e)")
    ap.add_argument("--finished", action="store_true", help="every run of the grid finished before (all reused)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        checkouts = {"this checkout": ROOT}
        if args.against:
            checkouts[args.against] = stack.enter_context(worktree(args.against))
        times: dict[str, list[float]] = {k: [] for k in checkouts}
        for r in range(args.repeats):
            for name, path in checkouts.items():
                s, n, reused = plan_seconds(path, Path(tmp) / f"results-{name}-{r}".replace(" ", "_"), args.finished)
                times[name].append(s)
                print(f"{name:>14}: {n} runs ({reused} reused) planned in {s:.2f} s", flush=True)
    return verdict(times, args.against, LIMIT_S)


if __name__ == "__main__":
    sys.exit(main())
