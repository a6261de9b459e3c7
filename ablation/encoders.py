"""Shared base networks: both images of a pair go through the same encoder."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn


class Dropout(nn.Dropout):
    """nn.Dropout with a 3x cheaper mask: one 64-bit draw gives two elements 32 random bits each.

    torch's CPU bernoulli_ costs ~8 ns an element (measured), a fifth of an MLP training step; the
    keep probability here is 1 - p to within 2^-32 and the scaling is torch's (mask / (1 - p)).
    """

    def bits(self, shape: torch.Size) -> tuple[torch.Tensor, int]:
        """32 random bits per element (as int32) and the threshold they must reach to keep the element."""
        k = shape.numel()
        bits = torch.empty((k + 1) // 2, dtype=torch.int64).random_(-(2**63), None)  # all 64 bits random
        return bits.view(torch.int32)[:k].view(shape), -(2**31) + round(self.p * 2**32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or not 0.0 < self.p < 1.0:
            return super().forward(x)
        # Compared straight into x's dtype: a bool mask and its conversion cost 3x as much (measured).
        keep = torch.ge(*self.bits(x.shape), out=torch.empty_like(x))
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


class CNN(nn.Module):
    """A small conv net with the MLP's embedding size: tests the asker's 'would a CNN fix it?'."""

    name: ClassVar[str] = "cnn"
    label: ClassVar[str] = "CNN encoder"

    def __init__(self, channels: int = 16, dim: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        self.dim = dim
        c = channels
        # Strided 3×3 convolutions instead of pooling: ~2.5× the MLP's multiply-adds, not ~8×.
        self.net = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, c, 3, stride=2), nn.ReLU(),  # (B, c, 13, 13)
            nn.Conv2d(c, 2 * c, 3, stride=2), nn.ReLU(),  # (B, 2c, 6, 6)
            nn.Flatten(), Dropout(dropout),
            nn.Linear(2 * c * 36, dim), nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 784) -> (B, dim)
        return self.net(x)
