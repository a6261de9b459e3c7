"""Losses and the sign convention that ties the loss to the accuracy threshold.

`convention="distance"`: a low score means "same" (Hadsell et al. 2006; predict same when s < t).
`convention="similarity"`: a high score means "same" (the asker's flip; predict same when s > t).
Flipping the convention flips the loss and the prediction together, never one without the other.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F

CONVENTIONS = ("distance", "similarity")


class PairLoss:
    """Built as `Loss(convention=..., threshold=..., **its config)`; called as `loss(score, logit, same)` → scalar."""

    name: ClassVar[str]
    label: ClassVar[str]
    needs_logit: ClassVar[bool] = False  # needs the head's logit (a bounded head)

    def __init__(self, convention: str = "distance", threshold: float = 0.5) -> None:
        if convention not in CONVENTIONS:
            raise ValueError(f"loss.convention must be one of {CONVENTIONS}, got {convention!r}")
        self.convention = convention
        self.threshold = threshold

    def target(self, same: torch.Tensor) -> torch.Tensor:
        """What a high score should mean under this convention: 1 for 'same' or 1 for 'different'."""
        return same if self.convention == "similarity" else 1.0 - same

    def predict_same(self, score: torch.Tensor) -> torch.Tensor:
        return score > self.threshold if self.convention == "similarity" else score < self.threshold

    def same_score(self, score: torch.Tensor) -> torch.Tensor:
        """A score that grows with 'same' under either convention (for ROC AUC)."""
        return score if self.convention == "similarity" else -score

    def __call__(self, score: torch.Tensor, logit: torch.Tensor | None, same: torch.Tensor) -> torch.Tensor:
        return self.per_pair(score, logit, same).mean()

    def per_pair(self, score: torch.Tensor, logit: torch.Tensor | None, same: torch.Tensor) -> torch.Tensor:
        """The loss of every pair (any leading dimensions, e.g. (K, B) for K stacked models)."""
        raise NotImplementedError


class Contrastive(PairLoss):
    """Hadsell's loss, y·s² + (1−y)·max(m − s, 0)², where y is the convention's target for 'low'."""

    name = "contrastive"
    label = "contrastive loss"

    def __init__(self, margin: float = 1.0, convention: str = "distance", threshold: float = 0.5) -> None:
        super().__init__(convention, threshold)
        self.margin = margin

    def per_pair(self, score: torch.Tensor, logit: torch.Tensor | None, same: torch.Tensor) -> torch.Tensor:
        low = 1.0 - self.target(same)  # pairs whose score should be pulled to 0
        return low * score.square() + (1.0 - low) * (self.margin - score).clamp_min(0).square()


class BCE(PairLoss):
    """Binary cross-entropy on the head's logit; needs a head with a sigmoid output."""

    name = "bce"
    label = "binary cross-entropy"
    needs_logit = True

    def per_pair(self, score: torch.Tensor, logit: torch.Tensor | None, same: torch.Tensor) -> torch.Tensor:
        if logit is None:
            raise ValueError("BCE needs a head with a logit (a sigmoid output)")
        return F.binary_cross_entropy_with_logits(logit, self.target(same), reduction="none")
