import pytest
import torch

from ablation.encoders import Dropout


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_keeps_1_minus_p_and_rescales_like_torch(p):
    """The 32-bit-mask dropout must mean what nn.Dropout means: keep rate 1 − p, kept values × 1/(1 − p)."""
    torch.manual_seed(0)
    x = torch.rand(511, 129) + 0.5  # odd element count: the last 64-bit draw is half used
    out = Dropout(p)(x)
    kept = out != 0
    assert abs(kept.double().mean().item() - (1 - p)) < 4 * ((p * (1 - p) / x.numel()) ** 0.5)
    assert torch.allclose(out[kept], x[kept] / (1 - p), rtol=1e-6, atol=0)
    # independent masks per row and per call (not one pattern repeated)
    assert not torch.equal(kept[0], kept[1])
    assert not torch.equal(kept, Dropout(p)(x) != 0)


def test_dropout_is_the_identity_in_eval_mode_and_at_p0():
    x = torch.rand(8, 5)
    assert torch.equal(Dropout(0.1).eval()(x), x)
    assert torch.equal(Dropout(0.0)(x), x)


def test_dropout_masks_are_the_recorded_runs_masks():
    """Speed-ups must not change the masks a seed draws: finished runs are reused by config hash, so a re-run
    has to reproduce them. Reference: 32 random bits per element, kept when the bits (as int32) clear p·2³²."""
    x = torch.rand(7, 33)
    torch.manual_seed(5)
    out = Dropout(0.1)(x)
    torch.manual_seed(5)
    bits = torch.empty((x.numel() + 1) // 2, dtype=torch.int64).random_(-(2**63), None)
    keep = bits.view(torch.int32)[: x.numel()].view(x.shape) >= -(2**31) + round(0.1 * 2**32)
    assert torch.equal(out, x * keep.to(x.dtype).div_(0.9))


def test_the_cnn_convolutions_are_conv2d_as_matrix_products():
    """Patches + Conv = nn.functional.conv2d (3×3, stride 2) on the 12×12 positions, in 2×2-block order; Group(4) +
    Conv = a 2×2 convolution with stride 2 on that map."""
    import torch.nn.functional as F

    from ablation.encoders import CNN

    torch.manual_seed(0)
    cnn = CNN(channels=4)
    x = torch.rand(3, 784)
    patches, conv1, relu, group, conv2 = list(cnn.net)[:5]
    h = relu(conv1(patches(x)))  # (3, 144, 4), position (i, j, a, b) = grid (2i + a, 2j + b)
    ref = F.relu(F.conv2d(x.view(3, 1, 28, 28), conv1.weight.view(4, 1, 3, 3), conv1.bias, stride=2))[:, :, :12, :12]
    ref = ref.reshape(3, 4, 6, 2, 6, 2).permute(0, 2, 4, 3, 5, 1).reshape(3, 144, 4)
    assert torch.allclose(h, ref, atol=1e-6)
    out = conv2(group(h))  # (3, 36, 8)
    grid = h.view(3, 6, 6, 2, 2, 4).permute(0, 5, 1, 3, 2, 4).reshape(3, 4, 12, 12)  # back to (c, 12, 12)
    w = conv2.weight.view(8, 2, 2, 4).permute(0, 3, 1, 2)  # (out, in, kh, kw) from the (a, b, c) input order
    ref2 = F.conv2d(grid, w, conv2.bias, stride=2).permute(0, 2, 3, 1).reshape(3, 36, 8)
    assert torch.allclose(out, ref2, atol=1e-5)
