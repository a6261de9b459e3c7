"""Optimizers for the recipe's tests: the hand-written RMSprop the project trained with before the recipe became
components (the reference for bit-identity), and one whose update is not element-wise."""

from __future__ import annotations

import torch


class _PerTensor(torch.optim.Optimizer):
    """torch.optim's step contract (the closure's loss, under grad) around an update of one tensor at a time."""

    @torch.no_grad()
    def step(self, closure=None):
        with torch.enable_grad():
            loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                self.update(p, group)
        return loss

    def update(self, p: torch.Tensor, group: dict) -> None:
        raise NotImplementedError


class KerasRMSprop(_PerTensor):
    """The earlier hand-written update, op for op: square_avg = alpha·square_avg + (1 − alpha)·g², then
    w −= lr · g / (sqrt(square_avg) + eps). Takes the rmsprop option's keys (momentum 0, not centred only)."""

    def __init__(self, params, lr: float = 1e-3, alpha: float = 0.9, eps: float = 1e-7, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False) -> None:
        assert weight_decay == 0 and momentum == 0 and not centered
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps})

    def update(self, p: torch.Tensor, group: dict) -> None:
        g, state = p.grad, self.state[p]
        if not state:
            state["square_avg"], state["denom"] = torch.zeros_like(p), torch.empty_like(p)
        sq, denom = state["square_avg"], state["denom"]
        sq.mul_(group["alpha"]).addcmul_(g, g, value=1 - group["alpha"])
        torch.sqrt(sq, out=denom).add_(group["eps"])
        p.addcdiv_(g, denom, value=-group["lr"])


class NormalisedSGD(_PerTensor):
    """SGD on the gradient divided by its norm over the whole tensor: not element-wise (a user's own optimizer)."""

    def __init__(self, params, lr: float = 1e-2) -> None:
        super().__init__(params, {"lr": lr})

    def update(self, p: torch.Tensor, group: dict) -> None:
        p.add_(p.grad / (p.grad.norm() + 1e-12), alpha=-group["lr"])
