import pytest
import torch

from ablation.losses import BCE, Contrastive

SCORE = torch.tensor([0.2, 0.9, 0.3, 1.4])
SAME = torch.tensor([1.0, 1.0, 0.0, 0.0])


def test_contrastive_distance_convention_is_hadsell():
    # same → d², different → max(1 − d, 0)²  (by hand)
    expected = (0.2**2 + 0.9**2 + 0.7**2 + 0.0) / 4
    assert Contrastive(margin=1.0)(SCORE, None, SAME).item() == pytest.approx(expected, rel=1e-6)


def test_contrastive_similarity_convention_is_the_askers_flip():
    # same → max(1 − p, 0)², different → p²  (the question's code)
    expected = (0.8**2 + 0.1**2 + 0.3**2 + 1.4**2) / 4
    loss = Contrastive(margin=1.0, convention="similarity")
    assert loss(SCORE, None, SAME).item() == pytest.approx(expected, rel=1e-6)


def test_threshold_follows_the_convention():
    assert Contrastive().predict_same(SCORE).tolist() == [True, False, True, False]
    assert Contrastive(convention="similarity").predict_same(SCORE).tolist() == [False, True, False, True]


def test_bce_conventions_are_mirror_images():
    z = torch.tensor([2.0, -1.0, 0.5])
    same = torch.tensor([1.0, 0.0, 1.0])
    sim, dist = BCE(convention="similarity"), BCE(convention="distance")
    by_hand = -torch.log(torch.sigmoid(torch.tensor([2.0, 1.0, 0.5]))).mean()
    assert sim(torch.sigmoid(z), z, same).item() == pytest.approx(by_hand.item(), rel=1e-6)
    assert dist(torch.sigmoid(-z), -z, same).item() == pytest.approx(by_hand.item(), rel=1e-6)
    with pytest.raises(ValueError, match="logit"):
        sim(z, None, same)


def test_unknown_convention_is_refused():
    with pytest.raises(ValueError, match="convention"):
        Contrastive(convention="inverted")
