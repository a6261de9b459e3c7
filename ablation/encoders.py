"""Shared base networks: both images of a pair go through the same encoder."""

from __future__ import annotations

import itertools
from typing import ClassVar

import torch
from torch import nn


class Dropout(nn.Dropout):
    """nn.Dropout with a 3x cheaper mask: one 64-bit draw gives two elements 32 random bits each.

    torch's CPU bernoulli_ draws one random number per element, a large share of an MLP step (benchmarks/README.md); the
    keep probability here is 1 - p to within 2^-32 and the scaling is torch's (mask / (1 - p)).
    """

    def bits(self, shape: torch.Size, device: torch.device) -> tuple[torch.Tensor, int]:
        """32 random bits per element (as int32), drawn on the input's device from its default generator,
        and the threshold they must reach to keep the element."""
        k = shape.numel()
        bits = torch.empty((k + 1) // 2, dtype=torch.int64, device=device).random_(-(2**63), None)  # all 64 bits random
        return bits.view(torch.int32)[:k].view(shape), -(2**31) + round(self.p * 2**32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not 0.0 < self.p < 1.0:
            return super().forward(x)
        # Compared straight into x's dtype: a bool mask and its conversion cost more (benchmarks/README.md).
        keep = torch.ge(*self.bits(x.shape, x.device), out=torch.empty_like(x))
        return x * keep.div_(1.0 - self.p)


class MLP(nn.Module):
    """The Keras example's base network: 784→128→128→128, ReLU, Dropout 0.1 between the layers."""

    name: ClassVar[str] = "mlp"
    label: ClassVar[str] = "MLP encoder"

    def __init__(self, in_dim: int = 784, width: int = 128, dim: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        self.dim = dim
        self.net = nn.Sequential(
            nn.Linear(in_dim, width), nn.ReLU(), Dropout(dropout),
            nn.Linear(width, width), nn.ReLU(), Dropout(dropout),
            nn.Linear(width, dim), nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 784) -> (B, dim)
        return self.net(x)


class Patches(nn.Module):
    """(B, 784) → (B, 144, 9): the 3×3 patches of a stride-2 convolution on the 28×28 image (im2col as one gather).

    Only the 12×12 of its 13×13 positions that the next layer uses, ordered so that each 2×2 block of positions
    is 4 consecutive rows: the next convolution (2×2, stride 2) is then a view and a matrix product. The images
    need no gradient, so the gather costs nothing in the backward pass.
    """

    per_sample = True  # acts on each sample on its own (the stacked trainer runs it on K·B samples at once)

    def __init__(self) -> None:
        super().__init__()
        index = [
            (2 * (2 * i + a) + dr) * 28 + 2 * (2 * j + b) + dc
            for i, j, a, b in itertools.product(range(6), range(6), range(2), range(2))
            for dr, dc in itertools.product(range(3), range(3))
        ]
        self.register_buffer("index", torch.tensor(index), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.index_select(1, self.index).view(len(x), 144, 9)


class Conv(nn.Linear):
    """A convolution written as a Linear on (B, positions, kernel·in) patches: the same weights as nn.Conv2d's,
    and initialised as Keras initialises a convolution (Glorot with fan_out = kernel positions × out channels)."""

    def __init__(self, in_channels: int, out_channels: int, positions: int) -> None:
        super().__init__(positions * in_channels, out_channels)
        self.positions = positions


class Group(nn.Module):
    """(B, P, C) → (B, P/n, n·C): n consecutive positions as one (in Patches' order, a 2×2 block). A view."""

    per_sample = True

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.view(len(x), x.shape[1] // self.n, self.n * x.shape[2])


class CNN(nn.Module):
    """A small conv net with the MLP's embedding size: tests the asker's 'would a CNN fix it?'.

    A 3×3 convolution with stride 2 (c channels on 12×12 positions), a 2×2 convolution with stride 2 (2c
    channels on 6×6), then a dense layer to the embedding; each convolution is one Linear shared by all
    positions (plain matrix products, ≈ 1.8× the MLP's multiply-adds). The nn.Conv2d net it replaces
    (3×3 / 3×3) spent half its step in mkldnn's convolution backward (benchmarks/README.md).
    """

    name: ClassVar[str] = "cnn"
    label: ClassVar[str] = "CNN encoder"
    relative_cost: ClassVar[float] = 2.0  # training time against the MLP's (measured), for the sweep's order
    # Stacked, 3 CNNs took longer per model than one alone (0.87x: their activations outgrow the cache), so a
    # sweep launches each CNN run on its own (benchmarks/sweep_speed.py measures it).
    max_stack: ClassVar[int] = 1

    def __init__(self, channels: int = 16, dim: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        self.dim = dim
        c = channels
        self.net = nn.Sequential(
            Patches(), Conv(1, c, 9), nn.ReLU(),  # (B, 144, c)
            Group(4), Conv(c, 2 * c, 4), nn.ReLU(),  # (B, 36, 2c)
            nn.Flatten(), Dropout(dropout),
            nn.Linear(72 * c, dim), nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 784) -> (B, dim)
        return self.net(x)
