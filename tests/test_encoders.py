import pytest
import torch

from ablation.encoders import Dropout


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_keeps_1_minus_p_and_rescales_like_torch(p):
    """The 32-bit-mask dropout must mean what nn.Dropout means: keep rate 1 − p, kept values × 1/(1 − p)."""
    torch.manual_seed(0)
    x = torch.rand(512, 129) + 0.5  # odd element count: the last 64-bit draw is half used
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
