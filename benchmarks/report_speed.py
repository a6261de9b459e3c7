"""How long `python -m ablation.report` takes over 1,000 run folders (requirement: ≤ 10 s).

    python benchmarks/report_speed.py [--runs 1000] [--keep DIR]

Writes synthetic run folders (tests/fakes.py: the sweep's exact format, mechanism-consistent scores) —
the full factorial grid × 2 seeds, the seed_question cells at a second learning rate (a dotted factor),
20 runs made by other code (set aside and listed), more seeds of the seed_question cells, and a dozen broken
runs (interrupted, corrupt, failed, diverged) — then times the real CLI in a fresh interpreter, imports included.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import fakes  # noqa: E402

LIMIT_S = 10.0


def write_folders(results: Path, total: int) -> None:
    runs_dir = results / "runs"
    broken = 0
    while broken + 4 <= max(total // 80, 4):
        fakes.write_broken(runs_dir, broken // 4)
        broken += 4
    lr, old = {"identity": {"train.lr": 3e-3}}, {"code": "0123456789ab"}
    cells = [(c, s, {}) for s in range(2) for c in fakes.full_grid()]
    cells += [(c, s, lr) for s in range(3) for c in fakes.SEED_QUESTION]
    cells += [({"head": h}, s, old) for s in range(10) for h in ("subtract", "absdiff")]
    cells += [(c, s, {}) for s in range(2, 1000) for c in fakes.SEED_QUESTION]
    for c, s, kw in cells[: total - broken]:
        fakes.write_run(runs_dir, "skipped" if fakes.skipped(c) else "completed", seed=s, **kw, **c)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--keep", type=Path, help="write the run folders here (reused if already there)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = args.keep or Path(tmp) / "results"
        if not (results / "runs").is_dir():
            t0 = time.perf_counter()
            write_folders(results, args.runs)
            print(f"wrote {args.runs} run folders in {time.perf_counter() - t0:.1f} s under {results}")
        n = sum(1 for _ in (results / "runs").iterdir())
        cmd = [sys.executable, "-m", "ablation.report", f"results_dir={results}", f"out_dir={results}/report"]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if p.returncode:
            print(p.stdout, p.stderr, sep="\n")
            return p.returncode
        print(p.stdout.splitlines()[-1])
        verdict = "OK" if elapsed <= LIMIT_S else "TOO SLOW"
        print(f"python -m ablation.report over {n} run folders: {elapsed:.2f} s wall (limit {LIMIT_S:g} s) {verdict}")
        return 0 if elapsed <= LIMIT_S else 1


if __name__ == "__main__":
    sys.exit(main())
