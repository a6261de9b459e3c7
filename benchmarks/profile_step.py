"""Where one training step's time goes: `python benchmarks/profile_step.py [--encoder mlp|cnn] [--threads 2] [--stacked K]`.

Runs the plain single-model `train.train_epoch` (or, with `--stacked K`, the stacked trainer that runs train
with K models: `stacked.train_epoch`) over `--steps` batches of random MNIST-sized synthetic pairs under
torch.profiler and prints the ops by self CPU time (per model with --stacked).
The README's "Where the time goes" quotes this table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
from torch.profiler import profile

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import BS, config, mnist_sized, stack_of, states_for  # noqa: E402

from ablation import stacked  # noqa: E402
from ablation.train import build, train_epoch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", default="mlp", choices=("mlp", "cnn"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100, help="batches per timed / profiled pass (after one warm-up pass)")
    ap.add_argument("--stacked", type=int, default=0, metavar="K", help="profile the stacked trainer with K models")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    x, pairs, labels = mnist_sized()
    pick = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(0))[: args.steps * BS]
    sub = (x, pairs[pick], labels[pick])  # args.steps batches drawn from the whole epoch, so the gather misses cache
    k = max(args.stacked, 1)
    if args.stacked:
        stack, loss_fn = stack_of(k, f"encoder={args.encoder}", "head=distance", "loss=contrastive")
        opt = torch.optim.RMSprop(stack.optimizer_params(True), lr=1e-3, alpha=0.9, eps=1e-7)
        states = states_for(k, *sub[1:])
        run = lambda: stacked.train_epoch(stack, loss_fn, opt, x, states, BS)  # noqa: E731
    else:
        torch.manual_seed(0)
        model, loss_fn = build(config(f"encoder={args.encoder}", "head=distance", "loss=contrastive"))
        opt = torch.optim.RMSprop(model.parameters(), lr=1e-3, alpha=0.9, eps=1e-7)
        gen = torch.Generator().manual_seed(0)
        run = lambda: train_epoch(model, loss_fn, opt, *sub, BS, gen)  # noqa: E731
    run()  # warm-up
    t = time.perf_counter()
    run()
    ms = (time.perf_counter() - t) / args.steps / k * 1e3
    steps = -(-len(pairs) // BS)
    what = f"stacked K={k}, per model" if args.stacked else "plain loop"
    print(f"{args.encoder}, {args.threads} thread(s), {what}: {ms:.2f} ms per step without the profiler "
          f"(x {steps} steps = {ms * steps / 1e3:.2f} s per full-MNIST epoch)")
    with profile() as prof:
        run()
    print(f"per {args.steps} steps{' of all K models' if args.stacked else ''}:")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=40))


if __name__ == "__main__":
    main()
