"""Siamese heads: how two embeddings become one score.

A head returns `(score, logit)`. Learned heads merge the embeddings, pass the merge through `depth`
hidden ReLU layers, then one linear unit: logit `z`, score `sigmoid(z)`. The weightless `Distance`
head returns the Euclidean distance as the score and no logit.

A head declares only what cannot be measured on it (its name and label, whether it has weights, whether its
score is a probability). Its structure — additive or interacting in its two inputs, symmetric, antisymmetric —
is measured on the model (ablation/structure.py), never declared: docs/mechanism.md says why it decides.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn


class Head(nn.Module):
    """What every head declares about itself; the sweep checks it (ablation/contract.py), the report reads it.

    A head is built as `Head(dim=..., depth=..., **its config)` and `forward(ea, eb)` returns `(score, logit)`,
    each of shape (B,); `logit` is None for a head without one. It must also run in float64 (its structure is
    measured on a float64 copy, where rounding is ~1e-16).
    """

    name: ClassVar[str]  # short name in tables and run listings (default: the class name in lower case)
    label: ClassVar[str]  # the head in words, for plots and prose (default: the name)
    weightless: ClassVar[bool] = False  # no parameters, so `depth` does not apply
    bounded: ClassVar[bool] = True  # score = sigmoid(logit), a probability (what BCE needs)


class Distance(Head):
    """Keras' `euclidean_distance`: sqrt(max(sum((a - b)^2), eps)). Symmetric, no weights."""

    name = "distance"
    label = "Euclidean distance"
    weightless = True
    bounded = False

    def __init__(self, dim: int, depth: int = 0, eps: float = 1e-7) -> None:
        super().__init__()
        if depth:
            raise ValueError("the distance head has no weights: depth must be 0")
        self.eps = eps

    def forward(self, ea: torch.Tensor, eb: torch.Tensor) -> tuple[torch.Tensor, None]:
        d2 = (ea - eb).square().sum(dim=-1)  # (B,) or (K, B) for stacked models
        return d2.clamp_min(self.eps).sqrt(), None


class LearnedHead(Head):
    """merge(ea, eb) → [Linear → ReLU] × depth → Linear(·, 1) → sigmoid."""

    def __init__(self, dim: int, depth: int = 0, hidden: int = 128) -> None:
        super().__init__()
        width = self.merge_dim(dim)
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(width, 1)

    def merge_dim(self, dim: int) -> int:
        return dim

    def merge(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, ea: torch.Tensor, eb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.out(self.hidden(self.merge(ea, eb))).squeeze(-1)  # (B,)
        return torch.sigmoid(z), z


class Subtract(LearnedHead):
    """The asker's head: `Subtract()` then `Dense(1, sigmoid)`. At depth 0, z(a,b) = w·f(a) − w·f(b) + c."""

    name = "subtract"
    label = "subtract a−b + dense"

    def merge(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        return ea - eb


class AbsDiff(LearnedHead):
    """|a − b| then dense (Koch et al. 2015): symmetric in its inputs."""

    name = "absdiff"
    label = "|a−b| + dense"

    def merge(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        return (ea - eb).abs()


class SqDiff(LearnedHead):
    """(a − b)² then dense: symmetric; a learnt weighted squared distance."""

    name = "sqdiff"
    label = "(a−b)² + dense"

    def merge(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        return (ea - eb).square()


class Concat(LearnedHead):
    """[a, b] then dense: at depth 0, z(a,b) = w₁·f(a) + w₂·f(b) + c, separate weights for each input."""

    name = "concat"
    label = "concatenate [a, b] + dense"

    def merge_dim(self, dim: int) -> int:
        return 2 * dim

    def merge(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        return torch.cat([ea, eb], dim=-1)


class Sum(LearnedHead):
    """a + b then dense: symmetric in its inputs, yet at depth 0 z(a,b) = w·f(a) + w·f(b) + c compares nothing."""

    name = "sum"
    label = "sum a+b + dense"

    def merge(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        return ea + eb


class Product(LearnedHead):
    """a ⊙ b then dense: symmetric, and every term w_k·f_k(a)·f_k(b) compares the two images."""

    name = "product"
    label = "product a⊙b + dense"

    def merge(self, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
        return ea * eb
