"""Where one training step's time goes: `python benchmarks/profile_step.py [--encoder mlp|cnn] [--threads 2]`.

Runs the framework's own `train_epoch` over `--steps` batches of random MNIST-sized synthetic pairs
under torch.profiler and prints the ops by self CPU time.
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
from train_speed import BS, config, mnist_sized  # noqa: E402

from ablation.train import FlatRMSprop, build, train_epoch  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", default="mlp", choices=("mlp", "cnn"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100, help="batches per timed / profiled pass (after one warm-up pass)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    x, pairs, labels = mnist_sized()
    torch.manual_seed(0)
    model, loss_fn = build(config(f"encoder={args.encoder}", "head=distance", "loss=contrastive"))
    opt = FlatRMSprop(model.parameters(), 1e-3, 0.9, 1e-7)
    pick = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(0))[: args.steps * BS]
    sub = (x, pairs[pick], labels[pick])  # args.steps batches drawn from the whole epoch, so the gather misses cache
    gen = torch.Generator().manual_seed(0)
    train_epoch(model, loss_fn, opt, *sub, BS, gen)  # warm-up
    t = time.perf_counter()
    train_epoch(model, loss_fn, opt, *sub, BS, gen)
    ms = (time.perf_counter() - t) / args.steps * 1e3
    steps = -(-len(pairs) // BS)
    print(f"{args.encoder}, {args.threads} thread(s): {ms:.2f} ms per step without the profiler "
          f"(x {steps} steps = {ms * steps / 1e3:.2f} s per full-MNIST epoch)")
    with profile() as prof:
        train_epoch(model, loss_fn, opt, *sub, BS, gen)
    print(f"per {args.steps} steps:")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=40))


if __name__ == "__main__":
    main()
