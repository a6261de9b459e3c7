"""The quick start's sweep, old code against new, side by side: `python benchmarks/sweep_speed.py` from the repo root.

  1. Checks out the reference commit (default 74eca6e, the code before bundled training) into a temporary git
     worktree and times its quick-start sweep (`python -m ablation.sweep -m +experiment=<its quick-start preset>
     hydra/launcher=parallel`) alternating with this checkout's, each into an empty results folder, `--pairs`
     times; prints every time and the ratio of the medians (new / old, against `--goal`).
  2. In the same run: seconds per full-MNIST-sized epoch (60,000 synthetic images, 108,400 Keras pairs) of the
     MLP and the CNN encoder with the stacked trainer, alone (K = 1) and per model in a bundle of 3, against
     the GEMM floor = the epoch's FLOPs / the GEMM rate measured at the encoder's own matrix shapes.
  3. The stacked trainer's bundle gain on the embedded data: time per model-epoch at K = 1, 2, 3 (interleaved),
     for the MLP and the CNN.

`--quick` runs the sweeps with `train.epochs=2` (minutes instead of ~10); `--no-sweep` skips part 1.
Not part of the test suite; the numbers depend on the machine and its load: read the ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from against import worktree  # noqa: E402
from train_speed import (BS, config, cpu, gemm_rate, linear_shapes, load, mnist_sized, stack_of,  # noqa: E402
                         states_for)

from ablation import stacked  # noqa: E402
from ablation.train import build, train_epoch  # noqa: E402

SWEEP = ["-m", "hydra/launcher=parallel", "progress=false"]
PRESETS = ("question", "seed_question")  # the quick start's preset; older revisions called it seed_question


def preset(code: Path) -> str:
    """The quick-start preset of the checkout at `code` (each revision runs its own quick start)."""
    return next(f"+experiment={p}" for p in PRESETS if (code / "conf" / "experiment" / f"{p}.yaml").is_file())


def sweep_seconds(code: Path, results: Path, extra: list[str]) -> tuple[float, int]:
    """Wall seconds of the quick-start sweep run from `code` (its own `ablation` first on the path)."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "ablation.sweep", *SWEEP, preset(code), f"results_dir={results}", *extra],
                       cwd=code, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        raise SystemExit(f"sweep in {code} failed:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return wall, len(list(results.glob("runs/*/metrics.json")))


def compare_sweeps(ref: str, pairs: int, extra: list[str], goal: float) -> None:
    with tempfile.TemporaryDirectory(prefix="sweep_speed_") as tmp, worktree(ref) as old:
        times: dict[str, list[float]] = {"old": [], "new": []}
        for i in range(pairs):
            order = ("old", "new") if i % 2 == 0 else ("new", "old")
            for which in order:
                results = Path(tmp) / f"results-{which}-{i}"
                wall, n = sweep_seconds(old if which == "old" else ROOT, results, extra)
                times[which].append(wall)
                print(f"  sweep {i + 1}/{pairs} {which} ({ref if which == 'old' else 'this checkout'}): {wall:.1f} s, "
                      f"{n} run folders (load {load()})", flush=True)
                shutil.rmtree(results, ignore_errors=True)
        o, n = np.median(times["old"]), np.median(times["new"])
        print(f"quick-start sweep{' ' + ' '.join(extra) if extra else ''}: old {o:.1f} s, new {n:.1f} s (medians of "
              f"{pairs}); new / old = {n / o:.3f} (goal <= {goal:g})\n", flush=True)


# ---- per-epoch cost against the GEMM floor ------------------------------------------------------------------

def interleaved(setups: dict, x: torch.Tensor, reps: int, scale: float = 1.0,
                plain: tuple | None = None) -> dict[tuple[str, int], list[float]]:
    """Seconds per model of one stacked epoch for every (encoder, K) setup, round-robin after one warm-up round;
    `plain` = ((model, loss, optimizer, generator), pairs, labels) adds the single-model loop as ('plain', 1)."""
    times: dict[tuple[str, int], list[float]] = {key: [] for key in setups}
    if plain is not None:
        times[("plain", 1)] = []
    for r in range(reps + 1):
        if plain is not None:
            (model, loss_fn, opt, gen), pairs, labels = plain
            t = time.perf_counter()
            train_epoch(model, loss_fn, opt, x, pairs, labels, BS, gen)
            if r:
                times[("plain", 1)].append((time.perf_counter() - t) * scale)
        for key, (stack, loss_fn, opt, states) in setups.items():
            t = time.perf_counter()
            stacked.train_epoch(stack, loss_fn, opt, x, states, BS)
            if r:
                times[key].append((time.perf_counter() - t) * scale / key[1])
    return times


def epoch_costs(threads: int, reps: int, steps: int) -> None:
    torch.set_num_threads(threads)
    x, pairs, labels = mnist_sized()
    n_steps = -(-len(pairs) // BS)
    sub = pairs[: steps * BS], labels[: steps * BS]
    print(f"== per-epoch cost, threads={threads}: {len(x):,} synthetic images, {len(pairs):,} pairs, {n_steps} steps "
          f"of {BS} (timed: {steps} steps x {reps} reps, interleaved, scaled to an epoch; load {load()})")
    setups = {}
    for enc in ("mlp", "cnn"):
        for k in (1, 3):
            stack, loss_fn = stack_of(k, f"encoder={enc}", "head=distance", "loss=contrastive")
            opt = torch.optim.RMSprop(stack.optimizer_params(True), lr=1e-3, alpha=0.9, eps=1e-7)
            setups[(enc, k)] = (stack, loss_fn, opt, states_for(k, *sub))
    times = interleaved(setups, x, reps, scale=n_steps / steps)  # per model, scaled to an epoch
    for enc in ("mlp", "cnn"):
        shapes, flops = linear_shapes(setups[(enc, 1)][0].models[0].encoder, 2 * BS)
        rate = gemm_rate(threads, shapes)
        floor = flops * n_steps / rate / 1e9
        for k in (1, 3):
            t = float(np.median(times[(enc, k)]))
            print(f"  {enc.upper():<3} K={k}: {t:.2f} s per model-epoch; GEMM floor {flops * n_steps / 1e9:.0f} GFLOP / "
                  f"{rate:.0f} GFLOP/s = {floor:.2f} s -> x{t / floor:.2f} the floor")
    print()


def bundle_gain(threads: int, reps: int) -> None:
    """Time per model-epoch on the embedded data (subtract head, depth 1) for K = 1, 2, 3, MLP and CNN, interleaved."""
    from ablation.data import Mnist5k
    from ablation.pairs import make_pairs

    torch.set_num_threads(threads)
    split = Mnist5k().load()
    x = torch.from_numpy(split.x_train)
    pairs, labels = (torch.from_numpy(a) for a in make_pairs(split.y_train, 0))
    setups = {}
    for enc in ("mlp", "cnn"):
        for k in (1, 2, 3):
            stack, loss_fn = stack_of(k, f"encoder={enc}", "head=subtract", "depth=1")
            setups[(enc, k)] = (stack, loss_fn, torch.optim.RMSprop(stack.optimizer_params(True), lr=1e-3, alpha=0.9, eps=1e-7),
                                states_for(k, pairs, labels))
    torch.manual_seed(0)
    model, loss_fn = build(config("encoder=mlp", "head=subtract", "depth=1", "seed=0"))
    plain = (model, loss_fn, torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7), torch.Generator().manual_seed(0))
    times = interleaved(setups, x, reps, plain=(plain, pairs, labels))
    print(f"== bundles on mnist5k (subtract head, depth 1; 63 steps an epoch), threads={threads}, {reps} interleaved "
          f"epochs (load {load()}):")
    for (enc, k), v in times.items():
        base = np.median(times[(enc, 1)])
        if enc == "plain":
            continue
        print(f"  {enc.upper():<3} K={k}: {np.median(v) * 1e3:.0f} ms per model-epoch, x{base / np.median(v):.2f} "
              "throughput vs K=1" + (f", x{np.median(times[('plain', 1)]) / np.median(v):.2f} vs the plain loop"
                                     if enc == "mlp" else ""))
    print(f"  MLP plain single-model loop (train.train_epoch, what a NotStackable model runs): "
          f"{np.median(times[('plain', 1)]) * 1e3:.0f} ms per epoch")
    print(f"  CNN / MLP per model-epoch at K=3: {np.median(times[('cnn', 3)]) / np.median(times[('mlp', 3)]):.2f}\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ref", default="74eca6e", help="the commit to compare against (its own code and config)")
    ap.add_argument("--pairs", type=int, default=1, help="old/new sweep pairs, alternating (~3-5 min per old sweep)")
    ap.add_argument("--quick", action="store_true", help="sweeps with train.epochs=2 (for development)")
    ap.add_argument("--goal", type=float, default=1.4, help="the ratio new / old to stay within")
    ap.add_argument("--sweep-only", action="store_true", help="only the sweeps (part 1)")
    ap.add_argument("--no-sweep", action="store_true", help="only the per-epoch costs and the bundle gain")
    ap.add_argument("--threads", default="1,2", help="thread counts for the per-epoch costs")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=200, help="steps timed per repetition (scaled to an epoch)")
    args = ap.parse_args()
    torch.set_flush_denormal(True)
    print(f"machine: {os.cpu_count()} CPUs, {cpu()}, torch {torch.__version__}; load average at start: {load()}\n")
    if not args.no_sweep:
        compare_sweeps(args.ref, args.pairs, ["train.epochs=2"] if args.quick else [], args.goal)
    if args.sweep_only:
        return
    for threads in (int(t) for t in args.threads.split(",")):
        epoch_costs(threads, args.reps, args.steps)
    bundle_gain(1, max(args.reps, 5))
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
