"""Components that fail on purpose, to test that one broken run never takes a sweep down."""

import torch

from ablation.heads import Subtract


class Exploding(Subtract):
    name = "exploding"

    def merge(self, ea: torch.Tensor, eb: torch.Tensor):
        if self.training:  # passes the contract check (eval mode), fails in the first training step
            raise RuntimeError("boom: this head always fails in training")
        return super().merge(ea, eb)
