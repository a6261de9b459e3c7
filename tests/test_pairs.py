import numpy as np
import pytest

from ablation.pairs import make_pairs


@pytest.fixture
def labels() -> np.ndarray:
    return np.random.default_rng(1).permutation(np.repeat(np.arange(10), 12))


def test_pairs_are_balanced_and_keras_sized(labels):
    pairs, same = make_pairs(labels, seed=0)
    n = 12 - 1  # Keras: min class count - 1 pairs per class and kind
    assert len(pairs) == 2 * 10 * n
    assert same.mean() == 0.5
    cls = labels[pairs]
    assert np.all((cls[:, 0] == cls[:, 1]) == (same == 1))  # labels say what the classes say
    assert np.all(np.bincount(cls[same == 1, 0], minlength=10) == n)  # every class has its positives
    assert len(np.unique(pairs[same == 1], axis=0)) == len(pairs[same == 1])


def test_pairs_deterministic_per_seed(labels):
    a, la = make_pairs(labels, seed=3)
    b, lb = make_pairs(labels, seed=3)
    c, _ = make_pairs(labels, seed=4)
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    assert not np.array_equal(a, c)


def test_random_order_is_swap_symmetric_and_sorted_is_not(labels):
    big = np.repeat(np.arange(10), 200)
    pairs, same = make_pairs(big, seed=0, order="random")
    cls = big[pairs[same == 0]]
    assert abs(np.mean(cls[:, 0] < cls[:, 1]) - 0.5) < 0.03
    s_pairs, s_same = make_pairs(big, seed=0, order="sorted")
    s_cls = big[s_pairs[s_same == 0]]
    assert np.all(s_cls[:, 0] < s_cls[:, 1])
    # the control changes only the order inside negative pairs, never which images are paired
    assert np.array_equal(np.sort(pairs, axis=1), np.sort(s_pairs, axis=1))


def test_bad_order_is_refused(labels):
    with pytest.raises(ValueError, match="pair order"):
        make_pairs(labels, seed=0, order="shuffled")
