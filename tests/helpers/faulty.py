"""Components that fail on purpose, to test that one broken run never takes a sweep down."""

import torch

from ablation.heads import Subtract


class Exploding(Subtract):
    name = "exploding"

    def merge(self, ea: torch.Tensor, eb: torch.Tensor):
        if self.training:  # passes the contract check (eval mode), fails in the first training step
            raise RuntimeError("boom: this head always fails in training")
        return super().merge(ea, eb)


class ConvEncoder(torch.nn.Module):
    """A user's encoder with a layer the stacked trainer does not run (Conv2d): it trains by the plain loop."""

    name = "convnet"

    def __init__(self, dim: int = 32) -> None:
        super().__init__()
        self.dim = dim
        self.conv = torch.nn.Conv2d(1, 4, 5, stride=3)
        self.out = torch.nn.Linear(4 * 8 * 8, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 784) -> (B, dim)
        h = torch.relu(self.conv(x.view(-1, 1, 28, 28)))
        return torch.relu(self.out(torch.nn.functional.dropout(h.flatten(1), 0.1, self.training)))


class Crashing(Subtract):
    name = "crashing"

    def merge(self, ea: torch.Tensor, eb: torch.Tensor):
        if self.training:  # passes the contract check (eval mode); its worker process dies in the first training step
            import os

            os._exit(3)
        return super().merge(ea, eb)
