"""How long `python -m ablation.report` takes over 1,000 run folders (requirement: ≤ 10 s).

    python benchmarks/report_speed.py [--runs 1000] [--keep DIR] [--against REV --repeats 3]

Writes synthetic run folders (tests/helpers/fakes.py: the sweep's exact format, mechanism-consistent scores) —
the full factorial grid × 2 seeds, the quick-start preset's cells at a second learning rate (a dotted factor),
20 runs made by other code (set aside and listed), more seeds of the preset's cells, and a dozen broken
runs (interrupted, corrupt, failed, diverged) — then times the real CLI in a fresh interpreter, imports included.
With `--against REV` (e.g. 74eca6e) it checks that revision out into a temporary git worktree and alternates the
two, each on run folders written by its own code (the format changed), `--repeats` times: read the ratio.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from helpers import fakes  # noqa: E402
from against import verdict, worktree  # noqa: E402

LIMIT_S = 10.0


def write_folders(results: Path, total: int) -> None:
    runs_dir = results / "runs"
    broken = 0
    while broken + 4 <= max(total // 80, 4):
        fakes.write_broken(runs_dir, broken // 4)
        broken += 4
    lr, old = {"identity": {"optimizer.lr": 3e-3}}, {"code": "0123456789ab"}
    cells = [(c, s, {}) for s in range(2) for c in fakes.full_grid()]
    cells += [(c, s, lr) for s in range(3) for c in fakes.QUESTION]
    cells += [({"head": h}, s, old) for s in range(10) for h in ("subtract", "absdiff")]
    cells += [(c, s, {}) for s in range(2, 1000) for c in fakes.QUESTION]
    for c, s, kw in cells[: total - broken]:
        fakes.write_run(runs_dir, "skipped" if fakes.skipped(c) else "completed", seed=s, **kw, **c)


def report_seconds(checkout: Path, results: Path, runs: int) -> float:
    """Wall seconds of `python -m ablation.report` from `checkout`, on folders its own benchmark writes."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(checkout), "HOME": str(Path.home())}
    p = subprocess.run([sys.executable, "benchmarks/report_speed.py", "--runs", str(runs), "--keep", str(results)],
                       cwd=checkout, env=env, capture_output=True, text=True, timeout=900)
    m = re.search(r"over \d+ run folders: ([\d.]+) s wall", p.stdout)
    if not m:
        raise SystemExit(f"report benchmark failed in {checkout}:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return float(m.group(1))


def compare(ref: str, runs: int, repeats: int) -> int:
    """This checkout against `ref`, alternating; prints every time, the medians and their ratio."""
    with tempfile.TemporaryDirectory() as tmp, worktree(ref) as old:
        checkouts = {"this checkout": ROOT, ref: old}
        times: dict[str, list[float]] = {k: [] for k in checkouts}
        for r in range(repeats + 1):  # the first round writes the folders and is not counted
            for name, path in (checkouts.items() if r % 2 else reversed(checkouts.items())):
                t = report_seconds(path, Path(tmp) / f"results-{path.name}", runs)
                if r:
                    times[name].append(t)
                    print(f"{name:>14}: report over {runs} run folders in {t:.2f} s", flush=True)
    return verdict(times, ref, LIMIT_S)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--keep", type=Path, help="write the run folders here (reused if already there)")
    ap.add_argument("--against", help="another revision to time alternately (e.g. 74eca6e)")
    ap.add_argument("--repeats", type=int, default=3, help="alternations with --against")
    args = ap.parse_args()
    if args.against:
        return compare(args.against, args.runs, args.repeats)
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
