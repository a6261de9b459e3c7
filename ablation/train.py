"""Training: a plain PyTorch loop on in-memory tensors, as a function of a resolved config."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from tqdm.auto import tqdm

from .diagnostics import diagnose, image_views, predict_same
from .heads import Head
from .losses import PairLoss
from .model import Siamese, keras_init_
from .pairs import make_pairs


class Diverged(RuntimeError):
    """The training loss became NaN or infinite."""


@dataclass(frozen=True)
class RunResult:
    status: str  # "completed" or "diverged"
    metrics: dict[str, Any]
    history: pd.DataFrame
    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    error: str | None = None
    views: pd.DataFrame = field(default_factory=pd.DataFrame)  # w·f(x) per test image, where the head has it


def build(cfg: DictConfig) -> tuple[Siamese, PairLoss]:
    encoder = instantiate(cfg.encoder)
    head: Head = instantiate(cfg.head, dim=encoder.dim, depth=cfg.depth)
    model = Siamese(encoder, head)
    if cfg.train.init == "keras":
        keras_init_(model)
    return model, instantiate(cfg.loss)


def seed_everything(seed: int, threads: int) -> torch.Generator:
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    return torch.Generator().manual_seed(seed)


@torch.no_grad()
def embed(encoder: torch.nn.Module, x: torch.Tensor, batch: int = 8192) -> torch.Tensor:
    return torch.cat([encoder(x[i : i + batch]) for i in range(0, len(x), batch)])


@torch.no_grad()
def pair_scores(
    model: Siamese, x: torch.Tensor, pairs: torch.Tensor, both_orders: bool = True
) -> dict[str, np.ndarray | None]:
    """Scores and logits of every pair (in both orders unless told); each image is embedded once."""
    model.eval()
    emb = embed(model.encoder, x)
    ea, eb = emb.index_select(0, pairs[:, 0]), emb.index_select(0, pairs[:, 1])  # (P, D)
    s_ab, z_ab = model.head(ea, eb)
    s_ba, z_ba = model.head(eb, ea) if both_orders else (None, None)
    model.train()
    to_np = lambda t: None if t is None else t.numpy().astype(np.float64)  # noqa: E731
    return {"s_ab": to_np(s_ab), "s_ba": to_np(s_ba), "z_ab": to_np(z_ab), "z_ba": to_np(z_ba)}


def head_bias(model: Siamese, depth: int) -> float | None:
    """The output bias c when the head is a single linear unit on the merge (where z(a,b)+z(b,a)=2c can hold)."""
    out = getattr(model.head, "out", None)
    return float(out.bias.item()) if out is not None and depth == 0 else None


def smaller_first(y: np.ndarray, pairs: np.ndarray, same: np.ndarray) -> float:
    """Fraction of different-digit pairs whose first image has the smaller label."""
    neg = pairs[same < 0.5]
    return float(np.mean(y[neg[:, 0]] < y[neg[:, 1]])) if len(neg) else float("nan")


class FlatRMSprop:
    """torch's RMSprop (no momentum, not centred) on one flat buffer: 5 kernels per step instead of 6 per tensor.

    The parameters and their gradients become views into contiguous buffers, so zero_grad is one fill and the
    update one pass; the arithmetic is torch.optim.RMSprop's, op for op (the benchmark checks bit-identity).
    """

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float, alpha: float, eps: float) -> None:
        params = [p for p in params if p.requires_grad]
        total = sum(p.numel() for p in params)
        self.flat, self.grad = torch.empty(total), torch.zeros(total)
        self.square_avg, self.denom = torch.zeros(total), torch.empty(total)
        self.lr, self.alpha, self.eps = lr, alpha, eps
        offset = 0
        for p in params:
            k = p.numel()
            self.flat[offset : offset + k].copy_(p.detach().reshape(-1))
            p.data = self.flat[offset : offset + k].view_as(p)
            p.grad = self.grad[offset : offset + k].view_as(p)  # backward accumulates into the buffer
            offset += k

    def zero_grad(self) -> None:
        self.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        g = self.grad
        self.square_avg.mul_(self.alpha).addcmul_(g, g, value=1 - self.alpha)
        torch.sqrt(self.square_avg, out=self.denom).add_(self.eps)
        self.flat.addcdiv_(g, self.denom, value=-self.lr)


def train_epoch(
    model: Siamese, loss_fn: PairLoss, opt: FlatRMSprop | torch.optim.Optimizer, x: torch.Tensor,
    pairs: torch.Tensor, labels: torch.Tensor, batch_size: int, generator: torch.Generator,
) -> tuple[float, float]:
    """One shuffled pass in Keras batches; returns (mean loss, running accuracy in training mode).

    Per step only the model's own work: the shuffle, the pair gathers and the bookkeeping happen once per
    epoch, the image gather is one index_select, and nothing waits on a value until the epoch ends.
    """
    n = len(pairs)
    perm = torch.randperm(n, generator=generator)
    pa, pb = pairs[perm].unbind(1)  # (n,) each: the epoch's batches are consecutive slices
    y = labels[perm]
    scores = torch.empty(n)
    losses = torch.empty((n + batch_size - 1) // batch_size)
    for k, i in enumerate(range(0, n, batch_size)):
        j = min(i + batch_size, n)
        # Stack the a-images over the b-images: one gather, one encoder call for both branches.
        xb = x.index_select(0, torch.cat([pa[i:j], pb[i:j]]))  # (2B, 784)
        score, logit = model.head(*model.encoder(xb).chunk(2))  # (B,)
        loss = loss_fn(score, logit, y[i:j])
        opt.zero_grad()
        loss.backward()
        opt.step()
        scores[i:j] = score.detach()
        losses[k] = loss.detach()
    sizes = torch.full_like(losses, batch_size)
    sizes[-1] = n - batch_size * (len(losses) - 1)
    epoch_loss = float((losses.double() * sizes.double()).sum()) / n
    accuracy = float((loss_fn.predict_same(scores) == (y > 0.5)).double().mean())
    return epoch_loss, accuracy


def train(cfg: DictConfig, progress: bool = False) -> RunResult:
    """Train one Siamese network by the Keras protocol and measure it; raises on bugs, reports divergence."""
    t_start = time.perf_counter()
    gen = seed_everything(cfg.seed, cfg.threads)
    data = instantiate(cfg.data)
    split = data.load()
    x_tr, x_te = torch.from_numpy(split.x_train), torch.from_numpy(split.x_test)
    # Pairs depend on the seed only through the negative partners; test pairs use a seed of their own.
    tr_pairs, tr_y = (torch.from_numpy(a) for a in make_pairs(split.y_train, cfg.seed, data.pair_order))
    te_pairs, te_y = (torch.from_numpy(a) for a in make_pairs(split.y_test, cfg.seed + 10_000, data.pair_order))

    te_same = te_y.numpy().astype(bool)

    model, loss_fn = build(cfg)
    opt = FlatRMSprop(model.parameters(), lr=cfg.train.lr, alpha=cfg.train.rho, eps=cfg.train.eps)
    n = len(tr_pairs)
    history: list[dict[str, float]] = []
    bar = tqdm(range(cfg.train.epochs), desc="epochs", unit="ep", leave=False, disable=not progress)
    model.train()
    for epoch in bar:
        t0 = time.perf_counter()
        epoch_loss, train_acc = train_epoch(model, loss_fn, opt, x_tr, tr_pairs, tr_y, cfg.train.batch_size, gen)
        te = pair_scores(model, x_te, te_pairs, both_orders=False)
        te_acc = float(np.mean(predict_same(te["s_ab"], loss_fn.convention, loss_fn.threshold) == te_same))
        history.append({
            "epoch": epoch + 1,
            "loss": epoch_loss,
            "train_acc": train_acc,  # running accuracy in training mode, as Keras reports it
            "test_acc": te_acc,
            "test_score_std": float(np.std(te["s_ab"])),
            "seconds": time.perf_counter() - t0,
        })
        bar.set_postfix(loss=f"{epoch_loss:.4f}", test_acc=f"{te_acc:.3f}")
        if not math.isfinite(epoch_loss):
            return RunResult(
                "diverged", {"epochs_run": epoch + 1, "wall_time_s": time.perf_counter() - t_start},
                pd.DataFrame(history), error=f"non-finite training loss ({epoch_loss}) in epoch {epoch + 1}",
            )

    te = pair_scores(model, x_te, te_pairs)
    tr = pair_scores(model, x_tr, tr_pairs, both_orders=False)
    c = head_bias(model, cfg.depth)
    metrics = diagnose(
        te["s_ab"], te["s_ba"], te_same, loss_fn.convention, loss_fn.threshold, te["z_ab"], te["z_ba"], c
    )
    metrics.update(
        train_acc=float(np.mean(predict_same(tr["s_ab"], loss_fn.convention, loss_fn.threshold) == tr_y.numpy().astype(bool))),
        final_loss=history[-1]["loss"],
        epochs_run=len(history),
        n_train_pairs=int(n),
        n_test_pairs=int(len(te_pairs)),
        n_params=sum(p.numel() for p in model.parameters()),
        # docs/mechanism.md §2: 0.5 when (a, b) and (b, a) class orders are equally likely; 1.0 for sorted pairs.
        neg_smaller_first=smaller_first(split.y_train, tr_pairs.numpy(), tr_y.numpy()),
        wall_time_s=time.perf_counter() - t_start,
    )
    scores = pd.DataFrame({"a": te_pairs[:, 0].numpy(), "b": te_pairs[:, 1].numpy(), "label": te_y.numpy().astype(int)})
    for k, v in te.items():
        scores[k] = v if v is not None else np.nan
    return RunResult("completed", metrics, pd.DataFrame(history), scores, views=image_views(model, x_te, split.y_test))
