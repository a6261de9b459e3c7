"""Training: a plain PyTorch loop on in-memory tensors, as a function of a resolved config."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from . import device, recipe, stacked, structure
from .data import Split
from .diagnostics import diagnose, predict_same
from .heads import Head
from .losses import PairLoss
from .model import Siamese, embed, keras_init_
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
    views: pd.DataFrame = field(default_factory=pd.DataFrame)  # z(x, r), z(r, x) per test image (ablation.structure)
    device: str = "cpu"  # where it was trained


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
    to_np = lambda t: None if t is None else device.to_host(t).astype(np.float64)  # noqa: E731
    return {"s_ab": to_np(s_ab), "s_ba": to_np(s_ba), "z_ab": to_np(z_ab), "z_ba": to_np(z_ba)}


def smaller_first(y: np.ndarray, pairs: np.ndarray, same: np.ndarray) -> float:
    """Fraction of different-digit pairs whose first image has the smaller label."""
    neg = pairs[same < 0.5]
    return float(np.mean(y[neg[:, 0]] < y[neg[:, 1]])) if len(neg) else float("nan")


def train_epoch(
    model: Siamese, loss_fn: PairLoss, opt: torch.optim.Optimizer, x: torch.Tensor,
    pairs: torch.Tensor, labels: torch.Tensor, batch_size: int, generator: torch.Generator,
) -> tuple[float, float]:
    """One shuffled pass in Keras batches; returns (mean loss, running accuracy in training mode).

    Per step only the model's own work: the shuffle, the pair gathers and the bookkeeping happen once per
    epoch, the image gather is one index_select, and nothing waits on a value until the epoch ends: the
    scores and losses stay on the model's device and come to the host once, as two numbers.
    """
    n = len(pairs)
    perm = torch.randperm(n, generator=generator)
    perm = device.put(perm, pairs.device)  # drawn on the CPU generator: the same batches on any device
    pa, pb = pairs[perm].unbind(1)  # (n,) each: the epoch's batches are consecutive slices
    y = labels[perm]
    scores = torch.empty(n, device=x.device)
    losses = torch.empty((n + batch_size - 1) // batch_size, device=x.device)
    for k, i in enumerate(range(0, n, batch_size)):
        j = min(i + batch_size, n)
        # Stack the a-images over the b-images: one gather, one encoder call for both branches.
        xb = x.index_select(0, torch.cat([pa[i:j], pb[i:j]]))  # (2B, 784)
        out: dict[str, torch.Tensor] = {}

        def closure(xb=xb, yb=y[i:j]) -> torch.Tensor:
            score, logit = model.head(*model.encoder(xb).chunk(2))  # (B,)
            out["score"], out["loss"] = score, loss_fn(score, logit, yb)
            opt.zero_grad()
            out["loss"].backward()
            return out["loss"]

        recipe.step(opt, closure)
        scores[i:j] = out["score"].detach()
        losses[k] = out["loss"].detach()
    sizes = torch.full_like(losses, batch_size)
    sizes[-1] = n - batch_size * (len(losses) - 1)
    total = (losses.double() * sizes.double()).sum()
    accuracy = (loss_fn.predict_same(scores) == (y > 0.5)).double().mean()
    total, accuracy = device.to_host(torch.stack([total, accuracy]))
    return float(total) / n, float(accuracy)


def train(cfg: DictConfig, progress: bool = False, job: int = 0) -> RunResult:
    """Train one Siamese network by the Keras protocol and measure it: a bundle of one (see train_bundle)."""
    return train_bundle([cfg], progress, job)[0]


def train_bundle(cfgs: list[DictConfig], progress: bool = False, job: int = 0) -> list[RunResult]:
    """Train runs that differ only in their seed together (ablation.stacked), then measure each on its own.

    A run's numbers are the same whichever bundle it is trained in, alone included: each model has its own
    initial weights, pairs, shuffles, dropout masks and optimizer state, and the stacked kernels work per model.
    `job` is the launcher job's number: runs planned for `cuda` spread over the GPUs by it (ablation.device).
    Raises on bugs and on a planned device this process cannot use (device.DeviceUnavailable, before any
    training); a run whose loss becomes NaN or infinite is reported diverged (the others go on).
    """
    t_start = time.perf_counter()
    cfg0 = cfgs[0]
    cell = [{k: v for k, v in OmegaConf.to_container(c, resolve=True).items() if k not in ("seed", "progress")}
            for c in cfgs]
    if any(c != cell[0] for c in cell[1:]):
        raise ValueError("runs trained together must differ in nothing but their seed")
    if len(cfgs) > 1 and not recipe.elementwise(cfg0):  # one optimizer over the stack would mix the runs
        return [r for cfg in cfgs for r in train_bundle([cfg], progress, job)]
    place = device.resolve(cfg0.get("device", "cpu"), job)
    seed_everything(cfg0.seed, cfg0.threads)
    data = instantiate(cfg0.data)
    split = data.load()
    x_tr, x_te = torch.from_numpy(split.x_train).to(place), torch.from_numpy(split.x_test).to(place)
    runs, states, models = [], [], []
    for cfg in cfgs:
        # Pairs depend on the seed only through the negative partners; test pairs use a seed of their own.
        # Kept on the host as arrays for the measurements, and on the device as tensors for the model.
        tr = make_pairs(split.y_train, cfg.seed, data.pair_order)
        te = make_pairs(split.y_test, cfg.seed + 10_000, data.pair_order)
        shuffle = seed_everything(cfg.seed, cfg.threads)  # the initial weights come from the seed's global stream
        model, loss_fn = build(cfg)
        model.to(place)
        drop = device.dropout_generator(place, cfg.seed)  # on the CPU: the seed's stream after the initial weights
        quads = structure.quadruples(len(split.x_test), cfg.seed)  # the same test images before and after training
        init = structure.at_init(model, x_te, quads)  # eval mode, no random numbers drawn
        models.append(model)
        states.append(stacked.ModelState(shuffle, drop, *(torch.from_numpy(a).to(place) for a in tr)))
        runs.append((cfg, model, loss_fn, tr, te, torch.from_numpy(te[0]).to(place), quads, init))
    try:
        stack: stacked.Stack | None = stacked.Stack(models)
    except stacked.NotStackable:
        stack = None  # e.g. a user's encoder with layers of its own: each run trains on its own, the plain way
    loss_fn = runs[0][2]

    def evaluate(k: int, epoch: int) -> dict[str, float]:
        _, model, loss_fn, _, (_, te_y), te_pairs, _, _ = runs[k]
        te = pair_scores(model, x_te, te_pairs, both_orders=False)
        te_same = te_y.astype(bool)
        return {
            "test_acc": float(np.mean(predict_same(te["s_ab"], loss_fn.convention, loss_fn.threshold) == te_same)),
            "test_score_std": float(np.std(te["s_ab"])),
        }

    bar = tqdm(total=cfg0.train.epochs, desc="epochs", unit="ep", leave=False, disable=not progress)

    def advance(postfix: dict[str, str]) -> None:
        bar.update()
        bar.set_postfix(postfix)

    if stack is not None:
        stacked.fit(stack, loss_fn, states, x_tr, cfg0, evaluate, advance)
    else:
        for k, (model, st) in enumerate(zip(models, states)):
            fit_alone(model, loss_fn, st, x_tr, cfg0, lambda epoch, k=k: evaluate(k, epoch), advance)
    bar.close()
    results = []
    for (cfg, model, loss_fn, tr, te, te_pairs, quads, init), st in zip(runs, states):
        if st.diverged_at is not None:
            loss = st.history[-1]["loss"]
            results.append(RunResult(
                "diverged", {**init, "epochs_run": st.diverged_at, "wall_time_s": time.perf_counter() - t_start},
                pd.DataFrame(st.history), error=f"non-finite training loss ({loss}) in epoch {st.diverged_at}",
                device=str(place),
            ))
            continue
        result = measure(cfg, model, loss_fn, split, x_tr, x_te, tr, te, st, te_pairs, t_start, quads, init)
        results.append(dataclasses.replace(result, device=str(place)))
    return results


def fit_alone(
    model: Siamese, loss_fn: PairLoss, st: stacked.ModelState, x: torch.Tensor, cfg: DictConfig,
    evaluate: Callable[[int], dict[str, float]], bar: Callable[[dict[str, str]], None],
) -> None:
    """One model that the stacked trainer cannot run (stacked.NotStackable), trained by the plain loop with the
    run's recipe (ablation.recipe) on its own parameters.

    Whether it was built alone or beside others, it draws its dropout masks from its own dropout stream
    (saved in its state, see device.dropout_generator): its layers draw from their device's default
    generator, set to that stream, so its numbers do not depend on the bundle either."""
    device.default_generator(x.device).set_state(st.dropout.get_state())
    opt = recipe.optimizer(cfg, (p for p in model.parameters() if p.requires_grad))
    sched = recipe.schedule(cfg, opt)
    t = cfg.train
    model.train()
    for epoch in range(t.epochs):
        t0 = time.perf_counter()
        lr = opt.param_groups[0]["lr"]
        loss, accuracy = train_epoch(model, loss_fn, opt, x, st.pairs, st.labels, t.batch_size, st.shuffle)
        if sched is not None:
            sched.step()
        st.history.append({"epoch": epoch + 1, "loss": loss, "train_acc": accuracy, "lr": lr, **evaluate(epoch),
                           "seconds": time.perf_counter() - t0})
        bar({"loss": f"{loss:.4f}"})
        if not math.isfinite(loss):
            st.diverged_at = epoch + 1
            return


def measure(
    cfg: DictConfig, model: Siamese, loss_fn: PairLoss, split: Split, x_tr: torch.Tensor, x_te: torch.Tensor,
    train_pairs: tuple[np.ndarray, np.ndarray], test_pairs: tuple[np.ndarray, np.ndarray], st: stacked.ModelState,
    te_on_device: torch.Tensor, t_start: float, quads: np.ndarray, init: dict[str, float],
) -> RunResult:
    """The trained model's final measurement: test pairs in both orders, diagnostics, structure, train accuracy.

    The pairs and labels come as host arrays (`train_pairs`, `test_pairs`); the scores are computed on the
    model's device, on its training pairs (`st.pairs`) and `te_on_device`, and brought back by device.to_host."""
    (tr_pairs, tr_y), (te_pairs, te_y) = train_pairs, test_pairs
    history = st.history
    te_same = te_y.astype(bool)
    n = len(tr_pairs)
    te = pair_scores(model, x_te, te_on_device)
    tr = pair_scores(model, x_tr, st.pairs, both_orders=False)
    metrics = diagnose(te["s_ab"], te["s_ba"], te_same, loss_fn.convention, loss_fn.threshold, te["z_ab"], te["z_ba"])
    after, views = structure.after_training(model, x_te, split.y_test, quads,
                                            structure.rectangles(split.y_test, cfg.seed), loss_fn.predict_same)
    metrics.update(**init, **after)
    metrics.update(
        train_acc=float(np.mean(predict_same(tr["s_ab"], loss_fn.convention, loss_fn.threshold) == tr_y.astype(bool))),
        final_loss=history[-1]["loss"],
        epochs_run=len(history),
        n_train_pairs=int(n),
        n_test_pairs=int(len(te_pairs)),
        n_params=sum(p.numel() for p in model.parameters()),
        # docs/mechanism.md §2: 0.5 when (a, b) and (b, a) class orders are equally likely; 1.0 for sorted pairs.
        neg_smaller_first=smaller_first(split.y_train, tr_pairs, tr_y),
        wall_time_s=time.perf_counter() - t_start,
    )
    scores = pd.DataFrame({"a": te_pairs[:, 0], "b": te_pairs[:, 1], "label": te_y.astype(int)})
    for k, v in te.items():
        scores[k] = v if v is not None else np.nan
    return RunResult("completed", metrics, pd.DataFrame(history), scores, views=views)
