"""Where one training step's time goes: `python benchmarks/profile_step.py [--encoder mlp|cnn] [--threads 2]`.

Runs the framework's step (one index_select gather, encoder on both branches, head, loss, backward,
FlatRMSprop) on MNIST-sized synthetic data under torch.profiler and prints the ops by self CPU time.
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

from ablation.train import FlatRMSprop, build  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", default="mlp", choices=("mlp", "cnn"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=100, help="steps under the profiler (after 50 untimed ones)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    x, pairs, labels = mnist_sized()
    torch.manual_seed(0)
    model, loss_fn = build(config(f"encoder={args.encoder}", "head=distance", "loss=contrastive"))
    opt = FlatRMSprop(model.parameters(), 1e-3, 0.9, 1e-7)
    pa, pb = pairs[torch.randperm(len(pairs))].unbind(1)

    def step(k: int) -> None:
        i = k * BS % (len(pairs) - BS)
        xb = x.index_select(0, torch.cat([pa[i : i + BS], pb[i : i + BS]]))
        score, logit = model.head(*model.encoder(xb).chunk(2))
        loss = loss_fn(score, logit, labels[i : i + BS])
        opt.zero_grad()
        loss.backward()
        opt.step()

    for k in range(50):
        step(k)
    t = time.perf_counter()
    for k in range(args.steps):
        step(k)
    ms = (time.perf_counter() - t) / args.steps * 1e3
    print(f"{args.encoder}, {args.threads} thread(s): {ms:.2f} ms per step without the profiler "
          f"(x {-(-len(pairs) // BS)} steps = {ms * -(-len(pairs) // BS) / 1e3:.2f} s per full-MNIST epoch)")
    with profile(record_shapes=True) as prof:
        for k in range(args.steps):
            step(k)
    print(f"per {args.steps} steps:")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=25, max_name_column_width=40))


if __name__ == "__main__":
    main()
