"""Several runs trained at once: K models of the same shapes with their weights stacked on a leading dimension.

Every run of a bundle keeps what makes it that run: its own initial weights (its seed), its own training
pairs and epoch shuffles (its own generator), its own dropout masks (its own generator) and its own optimizer
state (one optimizer over the stack is one per run only for an element-wise update: ablation.recipe measures it). Only the kernels are shared: a linear layer is one `baddbmm` over the (K, B, n) slices, element-wise
ops run on all K slices at once, and every reduction is over a model's own slice (the loss is a mean per
model; the sum over models that autograd starts from passes exactly 1.0 to each). So a model's numbers do not
depend on which other models share its bundle; a lone run is the same code with K = 1
(`tests/test_bundle.py` checks this bit for bit).

The K ordinary `Siamese` modules stay usable throughout: their parameters are views of slice k of the stacked
weights, so per-epoch test scoring and the final measurement run on each model as a plain module.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from omegaconf import DictConfig
from torch import nn

from . import device, recipe
from .encoders import Dropout
from .heads import LearnedHead
from .losses import PairLoss
from .model import Siamese

# Batches are padded to a multiple of PAD pairs per model. Element-wise kernels run in vector chunks with a
# scalar tail, and transcendental ones (sigmoid, exp, log) round differently in the two; with a ragged batch
# the chunks of a (K, B) tensor would straddle models, and a model's logits would round one way alone and
# another way in a bundle (measured). Padding keeps every model's slice on the same chunk boundaries.
PAD = 64

# Modules that only reshape one sample or act element-wise: applied to the (K·B, ...) batch as they are.
ELEMENTWISE = (nn.ReLU, nn.Identity, nn.Flatten, nn.Unflatten)


class NotStackable(TypeError):
    """A model contains a layer the stacked trainer does not know how to run per model slice."""


@dataclass
class ModelState:
    """What one model of a bundle carries through training besides its weights."""

    shuffle: torch.Generator  # the epoch permutations of its pairs
    dropout: torch.Generator  # its dropout masks
    pairs: torch.Tensor  # (n, 2) training pairs
    labels: torch.Tensor  # (n,) 1.0 = same digit
    diverged_at: int | None = None  # the epoch whose mean loss was not finite
    history: list[dict[str, float]] = field(default_factory=list)


class Stack:
    """K Siamese models of identical shapes, trained as one: stacked parameters (K, *shape) as autograd leaves.

    The stacked tensors live in one flat buffer (and their gradients in another) for the optimizer; model k's
    own parameters are views of slice k, so they always show the current weights.
    """

    def __init__(self, models: Sequence[Siamese]) -> None:
        self.models = list(models)
        self.k = len(self.models)
        named = [dict(m.named_parameters()) for m in self.models]
        shapes = {n: p.shape for n, p in named[0].items()}
        for other in named[1:]:
            if {n: p.shape for n, p in other.items()} != shapes:
                raise NotStackable("models of one bundle must have the same parameter shapes")
        total = sum(p.numel() for p in named[0].values()) * self.k
        place = next(iter(named[0].values())).device if named[0] else torch.device("cpu")
        self.flat = torch.empty(total, device=place)
        self.grad = torch.zeros(total, device=place)
        # the whole stack as one tensor for an element-wise optimizer: one update pass a step
        self.flat_param = nn.Parameter(torch.empty(0, device=place))
        self.flat_param.data, self.flat_param.grad = self.flat, self.grad
        self.params: dict[str, nn.Parameter] = {}
        offset = 0
        for name, shape in shapes.items():
            n = shape.numel() * self.k
            data = self.flat[offset : offset + n].view(self.k, *shape)
            for k in range(self.k):
                data[k].copy_(named[k][name].detach())
                named[k][name].data = data[k]  # model k sees slice k
            sp = nn.Parameter(torch.empty(0, device=place))
            sp.data = data
            sp.grad = self.grad[offset : offset + n].view(self.k, *shape)  # backward accumulates here
            self.params[name] = sp
            offset += n
        # module → its parameters' name prefix, on the template (model 0) that the forward walks
        self.prefix = {id(m): name for name, m in self.models[0].named_modules()}
        if not isinstance(getattr(self.models[0].encoder, "net", None), nn.Sequential):
            raise NotStackable("the stacked trainer runs an encoder's layers from its `net` (an nn.Sequential)")
        self.check(self.models[0].encoder)
        head = self.models[0].head
        if isinstance(head, LearnedHead):
            self.check(head.hidden)
            own = {id(p) for p in head.parameters()} - {id(p) for m in (head.hidden, head.out) for p in m.parameters()}
            if own:
                raise NotStackable(f"{type(head).__name__} has weights outside its hidden and output layers")
        elif any(True for _ in head.parameters()):
            raise NotStackable(f"{type(head).__name__} has weights but is not a LearnedHead (merge, hidden, out)")

    def optimizer_params(self, elementwise: bool) -> list[torch.Tensor]:
        """What the optimizer is given: the flat buffer when its update is element-wise (every model's update is
        its own however many share it), else the lone model's own parameters, their gradients wired to the stack's."""
        if elementwise:
            return [self.flat_param]
        if self.k != 1:
            raise NotStackable("an optimizer whose update is not element-wise trains its runs one at a time")
        params = dict(self.models[0].named_parameters())
        for name, p in params.items():
            p.grad = self.params[name].grad[0]
        return list(params.values())

    def zero_grad(self) -> None:
        self.grad.zero_()

    def check(self, module: nn.Module) -> None:
        for m in module.modules():
            if isinstance(m, nn.Sequential) or isinstance(m, (nn.Linear, Dropout, *ELEMENTWISE)):
                continue
            if getattr(m, "per_sample", False) or m is self.models[0].encoder:
                continue
            raise NotStackable(f"cannot train {type(m).__name__} stacked (known: Linear, ReLU, Dropout, reshapes)")

    def weights(self, module: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        p = self.prefix[id(module)]
        return self.params[p + ".weight"], self.params[p + ".bias"]

    def linear(self, module: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        """(K, ..., in) → (K, ..., out): one batched product over the K slices."""
        w, b = self.weights(module)  # (K, out, in), (K, out)
        lead, x = x.shape[1:-1], x.reshape(self.k, -1, x.shape[-1])
        if w.shape[1] == 1:
            # A single output unit: a product and a sum over the last dimension. baddbmm's matrix-vector case
            # rounds differently for K = 1 than for K > 1 (measured), this does not.
            y = (x * w).sum(dim=-1, keepdim=True) + b.unsqueeze(1)
        else:
            y = StackedLinear.apply(x, w, b)
        return y.view(self.k, *lead, w.shape[1])

    def run(self, module: nn.Module, x: torch.Tensor, states: Sequence[ModelState]) -> torch.Tensor:
        """Apply a (sequential) module of model 0's layout to the stacked (K, B, ...) input."""
        if isinstance(module, nn.Sequential):
            for child in module:
                x = self.run(child, x, states)
            return x
        if isinstance(module, nn.Linear):
            return self.linear(module, x)
        if isinstance(module, Dropout):
            return dropout(module, x, states)
        if isinstance(module, nn.ReLU):
            return torch.relu(x)
        # a per-sample reshape: run it on the K·B samples as one batch
        return module(x.flatten(0, 1)).unflatten(0, x.shape[:2])

    def encode(self, x: torch.Tensor, states: Sequence[ModelState]) -> torch.Tensor:
        return self.run(self.models[0].encoder.net, x, states)  # the encoder's forward is its net

    def head(self, ea: torch.Tensor, eb: torch.Tensor, states: Sequence[ModelState]):
        """The head of model 0's kind on (K, B, D) embeddings → (score, logit), each (K, B).

        A head's own code (a weightless head's forward, a learned head's merge) is written for (B, D)
        embeddings, so it runs on each model's slice; only the layers after the merge are stacked."""
        head = self.models[0].head
        if not isinstance(head, LearnedHead):  # weightless (checked in __init__)
            outs = [head(ea[k], eb[k]) for k in range(self.k)]
            score = torch.stack([s for s, _ in outs])
            return score, None if outs[0][1] is None else torch.stack([z for _, z in outs])
        merged = torch.stack([head.merge(ea[k], eb[k]) for k in range(self.k)])
        z = self.linear(head.out, self.run(head.hidden, merged, states)).squeeze(-1)
        return torch.sigmoid(z), z


class StackedLinear(torch.autograd.Function):
    """x (K, N, in) · w (K, out, in)ᵀ + b (K, out), with each model's weight and bias gradient computed on its own.

    The gradients are sums over the N rows. With 2 threads, one stacked product or reduction over K slices is
    split among the threads differently than a single slice is (for the CNN's 36,864 rows a step, measured), so
    a model's gradient would depend on its bundle; one product and one sum per model do not.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x, w)
        return torch.baddbmm(b.unsqueeze(1), x, w.mT)

    @staticmethod
    def backward(ctx, g: torch.Tensor):  # type: ignore[override]
        x, w = ctx.saved_tensors
        gx = torch.bmm(g, w) if ctx.needs_input_grad[0] else None
        gw = torch.stack([g[k].T @ x[k] for k in range(len(g))])
        gb = torch.stack([g[k].sum(dim=0) for k in range(len(g))])
        return gx, gw, gb


def dropout(module: Dropout, x: torch.Tensor, states: Sequence[ModelState]) -> torch.Tensor:
    """encoders.Dropout per model: model k draws its mask's bits from its own generator, as a lone run would."""
    p = module.p
    if not module.training or not 0.0 < p < 1.0:
        return x
    k, per = x.shape[0], x[0].numel()
    half = (per + 1) // 2
    raw = torch.empty(k, half, dtype=torch.int64, device=x.device)
    for i, st in enumerate(states):
        raw[i].random_(-(2**63), None, generator=st.dropout)  # all 64 bits random, as Dropout.bits draws them
    bits = raw.view(torch.int32)[:, :per].reshape(x.shape)
    keep = torch.ge(bits, -(2**31) + round(p * 2**32), out=torch.empty_like(x))
    return x * keep.div_(1.0 - p)


def train_epoch(
    stack: Stack, loss_fn: PairLoss, opt: torch.optim.Optimizer, x: torch.Tensor, states: Sequence[ModelState],
    batch_size: int,
) -> tuple[list[float], list[float]]:
    """One shuffled pass of every model over its own pairs, in Keras batches, all models in step.

    Returns per model (mean loss, running accuracy in training mode). Per step: one gather of all models'
    images, one stacked forward and backward, one optimizer pass; nothing waits on a value until the end,
    when the losses and accuracies of all models come to the host at once (device.to_host).
    """
    k, n = stack.k, len(states[0].pairs)
    dev = x.device
    # drawn on each model's CPU generator: the same batches on any device
    perms = [device.put(torch.randperm(n, generator=st.shuffle), dev) for st in states]
    pairs = torch.stack([st.pairs[p] for st, p in zip(states, perms)])  # (K, n, 2)
    y = torch.stack([st.labels[p] for st, p in zip(states, perms)])  # (K, n)
    pa, pb = pairs.unbind(2)
    scores = torch.empty(k, n, device=dev)
    steps = (n + batch_size - 1) // batch_size
    losses = torch.empty(k, steps, device=dev)
    for s, i in enumerate(range(0, n, batch_size)):
        j = min(i + batch_size, n)
        a, b, yb, keep = pa[:, i:j], pb[:, i:j], y[:, i:j], None
        if (j - i) % PAD:  # a short last batch: padded with weightless copies of its first pair (see PAD)
            extra = PAD - (j - i) % PAD
            a, b = (torch.cat([t, t[:, :1].expand(k, extra)], dim=1) for t in (a, b))
            yb = torch.cat([yb, yb[:, :1].expand(k, extra)], dim=1)
            keep = torch.cat([torch.ones(j - i, device=dev), torch.zeros(extra, device=dev)])
        # per model its a-images over its b-images; all K models' images in one gather
        xb = x.index_select(0, torch.cat([a, b], dim=1).reshape(-1)).view(k, 2 * a.shape[1], x.shape[1])
        out: dict[str, torch.Tensor] = {}

        def closure(xb=xb, yb=yb, keep=keep, n_b=j - i) -> torch.Tensor:
            ea, eb = stack.encode(xb, states).chunk(2, dim=1)  # (K, B, D) each
            out["score"], logit = stack.head(ea, eb, states)  # (K, B)
            per_pair = loss_fn.per_pair(out["score"], logit, yb)
            # each model's own mean over its own pairs
            out["loss"] = per_pair.mean(dim=-1) if keep is None else (per_pair * keep).sum(dim=-1) / n_b  # (K,)
            stack.zero_grad()
            total = out["loss"].sum()
            total.backward()  # d(sum)/d(loss_k) = 1: each model gets exactly its own gradient
            return total

        recipe.step(opt, closure)
        scores[:, i:j] = out["score"].detach()[:, : j - i]
        losses[:, s] = out["loss"].detach()
    sizes = torch.full((steps,), batch_size, dtype=torch.float64, device=dev)
    sizes[-1] = n - batch_size * (steps - 1)
    totals = torch.stack([(losses[m].double() * sizes).sum() for m in range(k)])  # each model's own reduction
    correct = torch.stack([(loss_fn.predict_same(scores[m]) == (y[m] > 0.5)).double().mean() for m in range(k)])
    totals, correct = device.to_host(torch.stack([totals, correct]))
    return [float(t) / n for t in totals], [float(a) for a in correct]


def fit(
    stack: Stack, loss_fn: PairLoss, states: Sequence[ModelState], x: torch.Tensor, cfg: DictConfig,
    evaluate: Callable[[int, int], dict[str, float]], bar: Callable[[dict[str, str]], None] | None = None,
) -> None:
    """Train all models for `cfg.train.epochs` by the run's recipe (ablation.recipe), filling each model's history;
    `evaluate(k, epoch)` scores model k.

    A model whose epoch loss is not finite is marked diverged at that epoch and its history ends there; it
    keeps running in the stack (its NaNs stay in its own slice) and training stops once every model diverged.
    """
    opt = recipe.optimizer(cfg, stack.optimizer_params(recipe.elementwise(cfg)))
    sched = recipe.schedule(cfg, opt)
    for m in stack.models:
        m.train()
    for epoch in range(cfg.train.epochs):
        t0 = time.perf_counter()
        lr = opt.param_groups[0]["lr"]
        mean_loss, accuracy = train_epoch(stack, loss_fn, opt, x, states, cfg.train.batch_size)
        if sched is not None:
            sched.step()
        train_s = time.perf_counter() - t0
        for k, st in enumerate(states):
            if st.diverged_at is not None:
                continue
            t1 = time.perf_counter()
            row = {"epoch": epoch + 1, "loss": mean_loss[k], "train_acc": accuracy[k], "lr": lr, **evaluate(k, epoch)}
            row["seconds"] = train_s / stack.k + time.perf_counter() - t1  # this model's share of the epoch
            st.history.append(row)
            if not math.isfinite(mean_loss[k]):
                st.diverged_at = epoch + 1
        if bar is not None:
            bar({"loss": " ".join(f"{v:.4f}" for v in mean_loss)})
        if all(st.diverged_at is not None for st in states):
            break
