"""What a head can represent, measured on the model: interaction, symmetry and antisymmetry of its logit.

Nothing here trusts a head's name or declarations. The encoder embeds real test images (eval mode, the run's own
device); the head is then evaluated on a float64 copy on the CPU, where rounding is ~1e-16, so a head that is
additive by construction measures ~1e-16 and an interacting one ~1e-2 to 1 (ablation/mechanism.py classifies).
Measured at initialisation and after training, with the same images; the numbers go into metrics.json.

* interaction: RMS of z(a,b) − z(a,b′) − z(a′,b) + z(a′,b′) over random quadruples of test images, divided by
  the std of z over those pairs (z is the logit, or the score for a head without one);
* symmetry residual: RMS of z(a,b) − z(b,a), same scale; antisymmetry residual: std of z(a,b) + z(b,a);
* identical-input spread: std of z(a,a) (zero when the merge vanishes for identical inputs, as a − b does);
* after training, rectangles: two same pairs (a,a′), (b,b′) of two classes and their cross pairs (a,b′), (b,a′);
  the fraction with all four right, which an additive head can never reach (docs/mechanism.md, theorem 1);
* after training, z(x, r) and z(r, x) per test image for a fixed reference image r (views.csv.gz): for an
  additive head these are the two parts of its logit, g(x) + const and h(x) + const, all it knows of an image.

Training records these for every head alike; only the report and the sweep's pre-flight classify them.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from . import device
from .model import Siamese, embed

QUADRUPLES = 512  # random (a, a′, b, b′) of test images per measurement
RECTANGLES = 1000  # random rectangles of test images after training
SEED_OFFSET = 20_000  # the measurement's images come from a generator of their own (seed + this): no torch RNG


def quadruples(n_images: int, seed: int) -> np.ndarray:
    """(QUADRUPLES, 4) indices of test images: a, a′, b, b′ (the same at initialisation and after training)."""
    return np.random.default_rng(seed + SEED_OFFSET).integers(0, n_images, size=(QUADRUPLES, 4))


def rectangles(labels: np.ndarray, seed: int) -> np.ndarray:
    """(RECTANGLES, 4) indices a, a′ of one class and b, b′ of another (a ≠ a′, b ≠ b′); empty if impossible."""
    labels = np.asarray(labels)
    classes = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    classes = [c for c in classes if len(c) >= 2]
    if len(classes) < 2:
        return np.empty((0, 4), dtype=np.int64)
    rng = np.random.default_rng(seed + SEED_OFFSET + 1)
    k = len(classes)
    i = rng.integers(0, k, RECTANGLES)
    j = (i + rng.integers(1, k, RECTANGLES)) % k

    def two(cls: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # two distinct images of each rectangle's class
        n = np.array([len(classes[c]) for c in cls])
        p = (rng.random(len(cls)) * n).astype(int)
        q = (p + 1 + (rng.random(len(cls)) * (n - 1)).astype(int)) % n
        return (np.array([classes[c][x] for c, x in zip(cls, p)]), np.array([classes[c][x] for c, x in zip(cls, q)]))

    a, a2 = two(i)
    b, b2 = two(j)
    return np.stack([a, a2, b, b2], axis=1).astype(np.int64)


def host64(t: torch.Tensor) -> torch.Tensor:
    """A tensor's values on the CPU in float64 (through device.to_host, the one way values leave a device)."""
    return torch.from_numpy(device.to_host(t)).to(torch.float64)


def float64_head(model: Siamese) -> torch.nn.Module:
    """A float64 copy of the head on the CPU, in eval mode; the model itself is left as it is."""
    head = copy.deepcopy(model.head).to_empty(device="cpu")
    source = dict(itertools.chain(model.head.named_parameters(), model.head.named_buffers()))
    with torch.no_grad():
        for name, t in itertools.chain(head.named_parameters(), head.named_buffers()):
            t.copy_(host64(source[name]))
    return head.double().eval()


@torch.no_grad()
def _z(head: torch.nn.Module, ea: torch.Tensor, eb: torch.Tensor) -> torch.Tensor:
    score, logit = head(ea, eb)
    return logit if logit is not None else score


def _rms(t: torch.Tensor) -> float:
    return float(t.square().mean().sqrt())


def residuals(head: torch.nn.Module, e: torch.Tensor, quads: np.ndarray) -> dict[str, float]:
    """The relative residuals of a float64 head on embeddings `e` (float64, CPU) over the quadruples."""
    ea, ea2, eb, eb2 = (e[torch.from_numpy(quads[:, k])] for k in range(4))
    z_ab, z_ab2, z_a2b, z_a2b2 = _z(head, ea, eb), _z(head, ea, eb2), _z(head, ea2, eb), _z(head, ea2, eb2)
    z_ba, z_aa = _z(head, eb, ea), _z(head, ea, ea)
    scale = float(torch.cat([z_ab, z_ab2, z_a2b, z_a2b2]).std())
    out = {"interaction": math.nan, "symmetry_residual": math.nan, "antisymmetry_residual": math.nan,
           "identical_spread": math.nan, "logit_scale": scale}
    if not (math.isfinite(scale) and scale > 0):
        return out  # a constant (or non-finite) output has no structure to measure
    out.update(interaction=_rms(z_ab - z_ab2 - z_a2b + z_a2b2) / scale, symmetry_residual=_rms(z_ab - z_ba) / scale,
               antisymmetry_residual=float((z_ab + z_ba).std()) / scale, identical_spread=float(z_aa.std()) / scale)
    return out


@torch.no_grad()
def _embeddings(model: Siamese, x: torch.Tensor) -> torch.Tensor:
    was = model.training
    model.eval()
    e = embed(model.encoder, x)
    model.train(was)
    return host64(e)


def at_init(model: Siamese, x: torch.Tensor, quads: np.ndarray) -> dict[str, float]:
    """The residuals of the untrained model on the quadruples' test images (keys end in `_init`)."""
    return {f"{k}_init": v for k, v in residuals(float64_head(model), _embeddings(model, x), quads).items()}


def after_training(
    model: Siamese, x: torch.Tensor, labels: np.ndarray, quads: np.ndarray, rects: np.ndarray,
    predict_same: Callable[[torch.Tensor], torch.Tensor],
) -> tuple[dict[str, float], pd.DataFrame]:
    """The residuals of the trained model, the rectangles it gets all right, and z(x, r), z(r, x) per test image."""
    head, e = float64_head(model), _embeddings(model, x)
    out = residuals(head, e, quads)
    out["rectangles_all_right"] = math.nan
    if len(rects):
        ea, ea2, eb, eb2 = (e[torch.from_numpy(rects[:, k])] for k in range(4))
        same = [predict_same(head(p, q)[0]) for p, q in ((ea, ea2), (eb, eb2), (ea, eb2), (eb, ea2))]
        out["rectangles_all_right"] = float((same[0] & same[1] & ~same[2] & ~same[3]).double().mean())
    ref = e[:1].expand(len(e), -1)
    views = pd.DataFrame({"image": np.arange(len(e)), "label": np.asarray(labels).astype(int),  # the float64 copy
                          "first": np.asarray(_z(head, e, ref)), "second": np.asarray(_z(head, ref, e))})  # is on the host
    return out, views
