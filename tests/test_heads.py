import pytest
import torch

from ablation.heads import AbsDiff, Concat, Distance, Product, SqDiff, Subtract, Sum


@pytest.fixture
def embeddings():
    g = torch.Generator().manual_seed(0)
    return torch.rand(64, 16, generator=g), torch.rand(64, 16, generator=g)


@pytest.mark.parametrize("cls,depth", [(AbsDiff, 0), (AbsDiff, 2), (SqDiff, 1), (Distance, 0), (Sum, 0), (Sum, 1),
                                       (Product, 0), (Product, 2)])
def test_symmetric_merges_ignore_input_order(cls, depth, embeddings):
    torch.manual_seed(0)
    head = cls(dim=16, depth=depth)
    ea, eb = embeddings
    assert torch.equal(head(ea, eb)[0], head(eb, ea)[0])


def test_subtract_depth0_logits_are_antisymmetric_around_the_bias(embeddings):
    torch.manual_seed(0)
    head = Subtract(dim=16, depth=0)
    with torch.no_grad():
        head.out.bias.fill_(0.7)
    ea, eb = embeddings
    z_ab, z_ba = head(ea, eb)[1], head(eb, ea)[1]
    assert torch.allclose(z_ab + z_ba, torch.full_like(z_ab, 2 * 0.7), atol=1e-5)
    assert z_ab.std() > 0.01  # non-trivial: the logits do vary across pairs


@pytest.mark.parametrize("cls", [Subtract, Concat])
def test_a_hidden_layer_or_concat_breaks_antisymmetry(cls, embeddings):
    torch.manual_seed(0)
    head = cls(dim=16, depth=1)
    ea, eb = embeddings
    z_ab, z_ba = head(ea, eb)[1], head(eb, ea)[1]
    residual = (z_ab + z_ba - 2 * head.out.bias).abs().max()
    assert residual > 1e-3


def test_sum_and_product_merge_as_their_names_say(embeddings):
    ea, eb = embeddings
    assert torch.equal(Sum(dim=16).merge(ea, eb), ea + eb) and torch.equal(Product(dim=16).merge(ea, eb), ea * eb)
    assert Sum(dim=16).out.in_features == 16 and Concat(dim=16).out.in_features == 32


def test_distance_head_is_keras_euclidean(embeddings):
    ea, eb = embeddings
    score, logit = Distance(dim=16)(ea, eb)
    assert logit is None
    assert torch.allclose(score, torch.linalg.norm(ea - eb, dim=1), atol=1e-6)
    assert Distance(dim=16)(ea, ea)[0].max() == pytest.approx(1e-7 ** 0.5)  # eps floor, no NaN gradient
    with pytest.raises(ValueError, match="no weights"):
        Distance(dim=16, depth=1)
