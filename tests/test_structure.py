"""What a head can represent, measured on the model: every built-in head × depth classified at initialisation,
without drawing a random number; rectangles, views and the numbers after training behave as the theorems say."""

import numpy as np
import pytest
import torch
from torch import nn

from ablation import heads, structure
from ablation.mechanism import classify
from ablation.model import Siamese, keras_init_

CASES = [  # (head, depth) → what it is, whatever its name
    (heads.Subtract, 0, "additive, antisymmetric"), (heads.Concat, 0, "additive, neither symmetric nor antisymmetric"),
    (heads.Sum, 0, "additive, symmetric"), (heads.AbsDiff, 0, "interacting, symmetric"),
    (heads.SqDiff, 0, "interacting, symmetric"), (heads.Product, 0, "interacting, symmetric"),
    (heads.Distance, 0, "interacting, symmetric"), (heads.Subtract, 1, "interacting, neither symmetric nor antisymmetric"),
    (heads.Concat, 2, "interacting, neither symmetric nor antisymmetric"), (heads.Sum, 1, "interacting, symmetric"),
]


class Encoder(nn.Module):
    """A small random encoder (ReLU, like the MLP's last layer)."""

    def __init__(self, dim: int = 12) -> None:
        super().__init__()
        self.dim = dim
        self.net = nn.Sequential(nn.Linear(20, dim), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def model(cls, depth: int, seed: int = 0) -> Siamese:
    torch.manual_seed(seed)
    m = Siamese(Encoder(), cls(dim=12, depth=depth))
    keras_init_(m)
    return m


@pytest.mark.parametrize("cls, depth, words", CASES, ids=[f"{c.__name__}-{d}" for c, d, _ in CASES])
def test_every_head_is_classified_by_what_it_measures(cls, depth, words):
    x = torch.rand(300, 20, generator=torch.Generator().manual_seed(1))
    m = structure.at_init(model(cls, depth), x, structure.quadruples(len(x), seed=0))
    s = classify(m["interaction_init"], m["symmetry_residual_init"], m["antisymmetry_residual_init"])
    assert s.words == words
    assert (m["interaction_init"] < 1e-14) == s.additive  # rounding of float64, or an interaction of order one
    if not s.additive:
        assert m["interaction_init"] > 1e-3


def test_the_measurement_draws_no_random_number_and_leaves_the_model_as_it_was():
    m = model(heads.Concat, 1)
    m.train()
    x = torch.rand(100, 20)
    before = torch.random.get_rng_state()
    weights = [p.detach().clone() for p in m.parameters()]
    structure.at_init(m, x, structure.quadruples(len(x), seed=3))
    assert torch.equal(torch.random.get_rng_state(), before)  # the run's dropout stream is untouched
    assert m.training and all(torch.equal(a, b) for a, b in zip(weights, m.parameters()))
    assert np.array_equal(structure.quadruples(100, 3), structure.quadruples(100, 3))


def test_rectangles_are_two_same_pairs_of_two_classes():
    labels = np.repeat(np.arange(5), 7)
    r = structure.rectangles(labels, seed=0)
    assert r.shape == (structure.RECTANGLES, 4)
    assert (labels[r[:, 0]] == labels[r[:, 1]]).all() and (labels[r[:, 2]] == labels[r[:, 3]]).all()
    assert (labels[r[:, 0]] != labels[r[:, 2]]).all() and (r[:, 0] != r[:, 1]).all() and (r[:, 2] != r[:, 3]).all()
    assert len(structure.rectangles(np.array([0, 0, 1]), seed=0)) == 0  # a class with one image: none possible


def comparing_model(cls) -> Siamese:
    """One-hot digit embeddings and a head set by hand: |a−b| with weights −1 (perfect), or a sum (additive)."""
    class OneHot(nn.Module):
        dim = 10

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    m = Siamese(OneHot(), cls(dim=10, depth=0))
    with torch.no_grad():
        m.head.out.weight.fill_(-1.0)
        m.head.out.bias.fill_(1.0)
    return m


@pytest.mark.parametrize("cls, right", [(heads.AbsDiff, 1.0), (heads.Sum, 0.0), (heads.Subtract, 0.0), (heads.Concat, 0.0)])
def test_only_a_head_that_compares_gets_a_rectangle_right(cls, right):
    labels = np.repeat(np.arange(10), 5)
    x = torch.eye(10)[torch.from_numpy(labels)]
    predict_same = lambda score: score > 0.5  # noqa: E731 - similarity convention
    out, views = structure.after_training(comparing_model(cls), x, labels, structure.quadruples(len(x), 0),
                                          structure.rectangles(labels, 0), predict_same)
    assert out["rectangles_all_right"] == right  # theorem 1: an additive head never gets all four right
    assert list(views.columns) == ["image", "label", "first", "second"] and len(views) == len(x)
    if cls is heads.Subtract:  # antisymmetric: z(x, r) + z(r, x) = 2c for every image
        assert np.allclose(views["first"] + views["second"], 2.0)
