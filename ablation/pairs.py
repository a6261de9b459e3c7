"""Pair construction exactly as Keras' `mnist_siamese.create_pairs`, as index pairs into the image array."""

from __future__ import annotations

import numpy as np

from .data import PAIR_ORDERS


def make_pairs(y: np.ndarray, seed: int, order: str = "random") -> tuple[np.ndarray, np.ndarray]:
    """Balanced pairs: per class d and index i, one positive (d_i, d_{i+1}) and one negative (d_i, dn_i).

    `dn` is a uniformly random other class, so (a, b) and (b, a) class orders are equally likely
    (the data is swap-symmetric). `order="sorted"` puts the smaller class first in every negative
    pair: the control of docs/mechanism.md §5 that breaks that symmetry. Returns (pairs (P, 2) int64, labels
    (P,) float32 with 1 = same digit), positives and negatives interleaved as in Keras.
    """
    if order not in PAIR_ORDERS:
        raise ValueError(f"pair order must be one of {PAIR_ORDERS}, got {order!r}")
    classes = np.unique(y)
    k = len(classes)
    if k < 2:
        raise ValueError("pairs need at least two classes")
    digit_indices = [np.flatnonzero(y == c) for c in classes]
    n = min(len(d) for d in digit_indices) - 1
    if n < 1:
        raise ValueError("every class needs at least two images to form a positive pair")
    rng = np.random.default_rng(seed)
    inc = rng.integers(1, k, size=(k, n))  # Keras: random.randrange(1, num_classes)
    d = np.repeat(np.arange(k), n).reshape(k, n)
    dn = (d + inc) % k
    i = np.tile(np.arange(n), (k, 1))
    idx = np.stack([di[: n + 1] for di in digit_indices])  # (k, n+1)
    pos = np.stack([idx[d, i], idx[d, i + 1]], axis=-1)  # (k, n, 2)
    neg = np.stack([idx[d, i], idx[dn, i]], axis=-1)
    if order == "sorted":
        swap = dn < d
        neg[swap] = neg[swap][:, ::-1]
    pairs = np.stack([pos, neg], axis=2).reshape(-1, 2)  # (k*n*2, 2): pos, neg, pos, neg, ...
    labels = np.tile(np.array([1.0, 0.0], dtype=np.float32), k * n)
    return pairs.astype(np.int64), labels
