"""Training speed, side by side in one process: `python benchmarks/train_speed.py [--sweep]` from the repo root.

Measures, interleaving repetitions so that other load on the machine hits every variant alike:
  a. the framework's `train_epoch` vs a bare PyTorch loop doing the same work, and the loop this project
     had before (the ladder in between says which optimisation gave what);
  b. seconds per epoch on MNIST-sized data (60,000 synthetic images, 108,400 Keras pairs) for the MLP and
     the CNN encoder, against the compute floor = FLOP count / GEMM rate measured at the encoder's shapes;
  c. (--sweep) the demo sweep's wall time on the embedded data;
  d. peak memory (max RSS) of one default run, in a subprocess.
Not part of the test suite: it takes minutes and its numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from ablation import encoders, stacked  # noqa: E402
from ablation.pairs import make_pairs  # noqa: E402
from ablation.train import build, train, train_epoch  # noqa: E402

MNIST_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]  # train images per digit
LR, RHO, EPS, BS = 1e-3, 0.9, 1e-7, 128


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"


def cpu() -> str:
    """Model name and vector ISA from /proc/cpuinfo: the GEMM rate depends on both."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")),
                platform.processor() or platform.machine())
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []))
    isa = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{name} ({isa})"


def config(*overrides: str):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose("config", overrides=list(overrides))


def stack_of(k: int, *overrides: str) -> tuple[stacked.Stack, object]:
    """K models of the config the overrides give, seeds 0..K-1, stacked as a bundle would train them."""
    models = []
    for seed in range(k):
        torch.manual_seed(seed)
        model, loss_fn = build(config(*overrides, f"seed={seed}"))
        models.append(model)
    return stacked.Stack(models), loss_fn


def states_for(k: int, pairs: torch.Tensor, labels: torch.Tensor) -> list[stacked.ModelState]:
    """Each model's shuffle and dropout generators (seeded per model) over the same pairs."""
    return [stacked.ModelState(torch.Generator().manual_seed(s), torch.Generator().manual_seed(100 + s), pairs, labels)
            for s in range(k)]


def mnist_sized(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """60,000 random 784-pixel images with MNIST's class counts: exactly the 108,400 Keras pairs of MNIST."""
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.repeat(np.arange(10), MNIST_COUNTS))
    x = torch.from_numpy(rng.random((60_000, 784), dtype=np.float32))
    pairs, labels = make_pairs(y, seed)
    return x, torch.from_numpy(pairs), torch.from_numpy(labels)


# ---- the training loops that are compared --------------------------------------------------------------

def loop(model: nn.Module, opt, x, pairs, labels, gen, *, gather: str, stats: str) -> None:
    """A bare loop with the framework's protocol; `gather`/`stats` switch the pre-optimisation habits back on."""
    n = len(pairs)
    perm = torch.randperm(n, generator=gen)
    if gather == "index_select":
        pa, pb = pairs[perm].unbind(1)
        y_all = labels[perm]
    loss_sum, correct = torch.zeros(()), torch.zeros((), dtype=torch.long)
    for i in range(0, n, BS):
        if gather == "index_select":
            xb, y = x.index_select(0, torch.cat([pa[i : i + BS], pb[i : i + BS]])), y_all[i : i + BS]
        else:  # the previous train.py: advanced indexing per step
            idx = perm[i : i + BS]
            p = pairs[idx]
            xb, y = x[torch.cat([p[:, 0], p[:, 1]])], labels[idx]
        ea, eb = model.encoder(xb).chunk(2)  # (B, D) each
        d = (ea - eb).square().sum(dim=1).clamp_min(1e-7).sqrt()  # Euclidean distance head
        loss = (y * d.square() + (1 - y) * (1 - d).clamp_min(0).square()).mean()  # contrastive, margin 1
        opt.zero_grad()
        loss.backward()
        opt.step()
        if stats == "step":  # running loss and accuracy as tensors, every step
            loss_sum += loss.detach() * len(y)
            correct += ((d.detach() < 0.5) == (y > 0.5)).sum()


class BoolMaskDropout(encoders.Dropout):
    """encoders.Dropout as it was before: the same bits, compared into a bool mask that is then converted."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not 0.0 < self.p < 1.0:
            return super().forward(x)
        bits, threshold = self.bits(x.shape, x.device)
        return x * (bits >= threshold).to(x.dtype).div_(1.0 - self.p)


def with_dropout(model: nn.Module, dropout: str) -> nn.Module:
    """A copy of the model whose encoders.Dropout layers are torch's nn.Dropout ("bernoulli", bernoulli_
    masks) or the bool-mask version ("bool"); "bits" keeps the framework's."""
    model = copy.deepcopy(model)
    for mod in model.modules():
        for name, child in mod.named_children():
            if isinstance(child, encoders.Dropout) and dropout != "bits":
                setattr(mod, name, nn.Dropout(child.p) if dropout == "bernoulli" else BoolMaskDropout(child.p))
    return model


class FlatRMSprop:
    """RMSprop on one contiguous buffer of all parameters (5 kernels a step): the bare loop's optimizer."""

    def __init__(self, params, lr: float, alpha: float, eps: float) -> None:
        params = [p for p in params if p.requires_grad]
        total = sum(p.numel() for p in params)
        self.flat, self.grad = torch.empty(total), torch.zeros(total)
        offset = 0
        for p in params:
            k = p.numel()
            self.flat[offset : offset + k].copy_(p.detach().reshape(-1))
            p.data, p.grad = self.flat[offset : offset + k].view_as(p), self.grad[offset : offset + k].view_as(p)
            offset += k
        self.square_avg, self.denom = torch.zeros_like(self.flat), torch.empty_like(self.flat)
        self.lr, self.alpha, self.eps = lr, alpha, eps

    def zero_grad(self) -> None:
        self.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        g = self.grad
        self.square_avg.mul_(self.alpha).addcmul_(g, g, value=1 - self.alpha)
        torch.sqrt(self.square_avg, out=self.denom).add_(self.eps)
        self.flat.addcdiv_(g, self.denom, value=-self.lr)


def variants(encoder: str, ladder: bool) -> dict[str, Callable[[], Callable]]:
    """name -> setup() returning an epoch(gen) closure; every variant starts from the same weights."""
    cfg = config(f"encoder={encoder}", "head=distance", "loss=contrastive")
    torch.manual_seed(0)
    base, loss_fn = build(cfg)

    def framework():
        m = copy.deepcopy(base)
        opt = torch.optim.RMSprop(m.parameters(), lr=LR, alpha=RHO, eps=EPS)  # the default recipe's optimizer
        return lambda x, p, y, g: train_epoch(m, loss_fn, opt, x, p, y, BS, g)

    def bare(gather="index_select", stats="epoch", optim="flat", dropout="bits"):
        def setup():
            m = with_dropout(base, dropout)
            if optim == "flat":
                opt = FlatRMSprop(m.parameters(), LR, RHO, EPS)
            else:
                torch_opt = torch.optim.RMSprop(m.parameters(), lr=LR, alpha=RHO, eps=EPS, foreach=True)
                opt = type("Opt", (), {"zero_grad": lambda s: torch_opt.zero_grad(set_to_none=True),
                                       "step": lambda s: torch_opt.step()})()
            return lambda x, p, y, g: loop(m, opt, x, p, y, g, gather=gather, stats=stats)
        return setup

    out = {"bare loop": bare(), "framework train_epoch": framework}
    before = dict(gather="index", stats="step", optim="torch", dropout="bernoulli")
    out["previous loop"] = bare(**before)
    if ladder:
        out["  + index_select gather"] = bare(**{**before, "gather": "index_select"})
        out["  + stats once per epoch"] = bare(**{**before, "gather": "index_select", "stats": "epoch"})
        out["  + flat RMSprop"] = bare(gather="index_select", stats="epoch", optim="flat", dropout="bernoulli")
        out["  + 32-bit dropout masks"] = bare(dropout="bool")
        out["  + masks compared into floats"] = bare()  # = the bare loop
    return out


def time_interleaved(setups: dict[str, Callable], data, reps: int, threads: int) -> dict[str, list[float]]:
    """Seconds per call of each variant, round-robin `reps` times after one warm-up round."""
    torch.set_num_threads(threads)
    epochs = {k: s() for k, s in setups.items()}
    times: dict[str, list[float]] = {k: [] for k in epochs}
    for r in range(reps + 1):
        for k, epoch in epochs.items():
            gen = torch.Generator().manual_seed(r)  # every variant sees the same batches in a round
            t = time.perf_counter()
            epoch(*data, gen)
            if r:
                times[k].append(time.perf_counter() - t)
    return times


# ---- the compute floor -----------------------------------------------------------------------------------

def gemm_rate(threads: int, shapes: list[tuple[int, int, int]], reps: int = 200) -> float:
    """GFLOP/s of the encoder's matrix products (m, k, n), FLOP-weighted over the shapes."""
    torch.set_num_threads(threads)
    flops = secs = 0.0
    for m, k, n in shapes:
        a, b = torch.rand(m, k), torch.rand(k, n)
        for _ in range(20):
            a @ b
        t = time.perf_counter()
        for _ in range(reps):
            a @ b
        secs += time.perf_counter() - t
        flops += 2.0 * m * k * n * reps
    return flops / secs / 1e9


def mlp_shapes(b: int = 2 * BS) -> list[tuple[int, int, int]]:
    """Forward x·W, backward dW = xᵀ·g per layer, dX = g·Wᵀ for all layers but the first (no input grad)."""
    dims = [(784, 128), (128, 128), (128, 128)]
    return [(b, i, o) for i, o in dims] + [(i, b, o) for i, o in dims] + [(b, o, i) for i, o in dims[1:]]


def linear_shapes(encoder: nn.Module, batch: int) -> tuple[list[tuple[int, int, int]], float]:
    """The encoder's matrix products for `batch` images, (m, k, n) forward, dW and dX (not for the first layer),
    and their FLOPs: every layer is a Linear, applied to all the positions of a patch grid at once."""
    rows: list[tuple[int, int, int]] = []
    hooks = [m.register_forward_hook(lambda m, i, o: rows.append((i[0].numel() // m.in_features, m.in_features,
                                                                   m.out_features)))
             for m in encoder.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        encoder.eval()(torch.zeros(1, 784))
    for h in hooks:
        h.remove()
    shapes, flops = [], 0.0
    for idx, (pos, k, n) in enumerate(rows):
        m = pos * batch
        shapes += [(m, k, n), (k, m, n)] + ([(m, n, k)] if idx else [])
        flops += 2.0 * m * k * n * (3 if idx else 2)
    return shapes, flops


def epoch_flops(encoder: str, n_pairs: int) -> float:
    """Multiply-adds × 2 of one epoch, both branches, forward + backward (no gradient w.r.t. the images)."""
    if encoder == "mlp":
        fwd = 784 * 128 + 2 * 128 * 128
        bwd = fwd + 2 * 128 * 128
    else:  # CNN: its convolutions are Linear layers on patches; count them
        return linear_shapes(encoders.CNN(), 2 * n_pairs)[1]
    return 2.0 * (fwd + bwd) * 2 * n_pairs


# ---- whole runs ---------------------------------------------------------------------------------------------

def run_subprocess(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of `python -m ablation.sweep ...`, through a fresh parent that reports
    the largest max RSS among its waited-for descendants (the run itself, or a sweep's worker processes)."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "ablation.sweep", *args], cwd=ROOT,
                         check=True, capture_output=True, text=True)
    return time.perf_counter() - t, int(out.stdout.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


def mnist5k_epoch_seconds(threads: int) -> float:
    """Median seconds per epoch (training + per-epoch test scoring) of a default 20-epoch mnist5k run."""
    res = train(config(f"threads={threads}"))
    return float(np.median(res.history["seconds"]))


def first_optimizer_seconds(make: str) -> float:
    """Seconds to build the first optimizer in a fresh process (torch.optim imports torch._dynamo there)."""
    code = ("import sys, time, torch; sys.path.insert(0, sys.argv[1]); from train_speed import FlatRMSprop;"
            "m = torch.nn.Linear(3, 3); t = time.perf_counter(); " + make + "; print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT / "benchmarks")], check=True, capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def table(rows: list[tuple], header: tuple) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2", help="torch thread counts to measure (comma-separated)")
    ap.add_argument("--reps", type=int, default=3, help="interleaved repetitions per variant")
    ap.add_argument("--cnn-steps", type=int, default=150, help="CNN steps timed per repetition (x 847 for an epoch)")
    ap.add_argument("--no-ladder", action="store_true", help="skip the one-optimisation-at-a-time ladder")
    ap.add_argument("--sweep", action="store_true", help="also time the demo sweep (minutes)")
    args = ap.parse_args()
    torch.set_flush_denormal(True)
    print(f"machine: {os.cpu_count()} CPUs, {cpu()}, torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()} "
          f"kernels), python {platform.python_version()}; load average at start: {load()}")
    x, pairs, labels = mnist_sized()
    n = len(pairs)
    steps = -(-n // BS)
    print(f"MNIST-sized synthetic data: {len(x):,} images, {n:,} pairs, batch {BS} -> {steps} steps per epoch\n")

    for threads in [int(t) for t in args.threads.split(",")]:
        rate = gemm_rate(threads, mlp_shapes())
        print(f"== threads={threads}: GEMM at the MLP's shapes {rate:.0f} GFLOP/s (load {load()})")
        setups = variants("mlp", ladder=not args.no_ladder)
        times = time_interleaved(setups, (x, pairs, labels), args.reps, threads)
        ref = np.median(times["bare loop"])
        floor = epoch_flops("mlp", n) / rate / 1e9
        rows = [(k, f"{np.median(v):.2f}", f"{min(v):.2f}", f"{np.median(v) / ref:.3f}", f"{np.median(v) / floor:.2f}")
                for k, v in times.items()]
        print(f"MLP, one full epoch: compute floor {epoch_flops('mlp', n) / 1e9:.0f} GFLOP / {rate:.0f} GFLOP/s = {floor:.2f} s")
        table(rows, ("variant (same data, model, batches)", "s/epoch", "best", "x bare", "x floor"))

        sub = (x, pairs[: args.cnn_steps * BS], labels[: args.cnn_steps * BS])
        cnn = time_interleaved(variants("cnn", ladder=False), sub, args.reps, threads)
        cnn_floor = epoch_flops("cnn", n) / rate / 1e9
        scale = steps / args.cnn_steps
        print(f"CNN, {args.cnn_steps} steps scaled to an epoch: compute floor {epoch_flops('cnn', n) / 1e9:.0f} GFLOP "
              f"/ {rate:.0f} GFLOP/s = {cnn_floor:.2f} s (convolutions run below the GEMM rate)")
        cref = np.median(cnn["bare loop"])
        table([(k, f"{np.median(v) * scale:.2f}", f"{np.median(v) / cref:.3f}", f"{np.median(v) * scale / cnn_floor:.2f}")
               for k, v in cnn.items()], ("variant", "s/epoch", "x bare", "x floor"))
        print(f"(load average after threads={threads}: {load()})\n")

    print("== whole runs on the embedded data (mnist5k, 20 epochs, MLP, distance head)")
    per_epoch = {t: [] for t in (1, 2)}
    for _ in range(args.reps):
        for t in per_epoch:
            per_epoch[t].append(mnist5k_epoch_seconds(t))
    for t, v in per_epoch.items():
        print(f"threads={t}: {np.median(v):.3f} s per epoch (incl. test scoring), median of {len(v)} runs")
    t_torch = first_optimizer_seconds("torch.optim.RMSprop(m.parameters(), foreach=True)")
    t_flat = first_optimizer_seconds("FlatRMSprop(m.parameters(), 1e-3, 0.9, 1e-7)")
    print(f"first optimizer of a process: torch.optim.RMSprop {t_torch:.2f} s (imports torch._dynamo), "
          f"FlatRMSprop {t_flat:.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        wall, rss = run_subprocess([f"results_dir={tmp}", "progress=false"])
        print(f"one default run in a fresh process: {wall:.1f} s wall (incl. Python/torch start-up), "
              f"peak memory {rss:.0f} MB max RSS")
        wall, rss = run_subprocess([f"results_dir={tmp}/cnn", "encoder=cnn", "progress=false"])
        print(f"one CNN run in a fresh process: {wall:.1f} s wall, peak memory {rss:.0f} MB max RSS")
    if args.sweep:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"demo sweep (load {load()}) ...", flush=True)
            wall, rss = run_subprocess(["-m", "+experiment=question", "hydra/launcher=parallel",
                                        f"results_dir={tmp}", "progress=false"])
            n_runs = len(list(Path(tmp, "runs").glob("*/metrics.json")))
            print(f"demo sweep: {n_runs} runs in {wall:.0f} s = {wall / 60:.1f} min wall (target <= 3 min), "
                  f"peak memory of the largest process {rss:.0f} MB")
    print(f"\nload average at the end: {load()}")


if __name__ == "__main__":
    main()
