"""Shared base networks: both images of a pair go through the same encoder."""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn


class MLP(nn.Module):
    """The Keras example's base network: 784→128→128→128, ReLU, Dropout 0.1 between the layers."""

    name: ClassVar[str] = "mlp"

    def __init__(self, in_dim: int = 784, width: int = 128, dim: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        self.dim = dim
        self.net = nn.Sequential(
            nn.Linear(in_dim, width), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(width, width), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(width, dim), nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 784) -> (B, dim)
        return self.net(x)


class CNN(nn.Module):
    """A small conv net with the MLP's embedding size: tests the asker's 'would a CNN fix it?'."""

    name: ClassVar[str] = "cnn"

    def __init__(self, channels: int = 16, dim: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        self.dim = dim
        c = channels
        # Strided 3×3 convolutions instead of pooling: ~2.5× the MLP's multiply-adds, not ~8×.
        self.net = nn.Sequential(
            nn.Unflatten(1, (1, 28, 28)),
            nn.Conv2d(1, c, 3, stride=2), nn.ReLU(),  # (B, c, 13, 13)
            nn.Conv2d(c, 2 * c, 3, stride=2), nn.ReLU(),  # (B, 2c, 6, 6)
            nn.Flatten(), nn.Dropout(dropout),
            nn.Linear(2 * c * 36, dim), nn.ReLU(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 784) -> (B, dim)
        return self.net(x)
