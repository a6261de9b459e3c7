"""The Siamese network: one shared encoder, one head; both branches in one forward pass."""

from __future__ import annotations

import torch
from torch import nn

from .heads import Head


class Siamese(nn.Module):
    def __init__(self, encoder: nn.Module, head: Head) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, xa: torch.Tensor, xb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        # One encoder call on the stacked batch: same weights, half the kernel launches.
        ea, eb = self.encoder(torch.cat([xa, xb])).chunk(2)  # (B, D) each
        return self.head(ea, eb)


@torch.no_grad()
def embed(encoder: nn.Module, x: torch.Tensor, batch: int = 8192) -> torch.Tensor:
    """The embeddings of many images, in batches (the caller sets eval or train mode)."""
    return torch.cat([encoder(x[i : i + batch]) for i in range(0, len(x), batch)])  # (N, D)


def keras_init_(model: nn.Module) -> None:
    """Glorot-uniform weights and zero biases, as Keras does (measured ≈ 2 points better than torch's default)."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            # a convolution as a Linear (encoders.Conv): Keras counts its fan_out over the kernel's positions
            k = getattr(m, "positions", 1)
            fan_in, fan_out = m.weight.shape[1], m.weight.shape[0]
            nn.init.xavier_uniform_(m.weight, gain=((fan_in + fan_out) / (fan_in + k * fan_out)) ** 0.5)
            nn.init.zeros_(m.bias)
