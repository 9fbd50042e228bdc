"""U-Net spectral-norm critic: per-pixel logits at any size, context reaching every pixel, spectral norm, training."""

import pytest
import torch
import torch.nn as nn
from torch.nn.utils import parametrize

from gan_app.nn.unet_critic import UNetDiscriminator


@pytest.mark.parametrize("size", [(64, 64), (37, 50), (8, 9)])
def test_one_logit_per_pixel_at_any_size(size):
    d = UNetDiscriminator(in_channels=3, base_width=4, depth=3)
    assert d(torch.randn(2, 3, *size)).shape == (2, 1, *size)


def test_bad_inputs_are_named():
    d = UNetDiscriminator(in_channels=6, base_width=4, depth=3)
    with pytest.raises(ValueError, match="expects"):
        d(torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match="needs H, W >= 8"):
        d(torch.randn(1, 6, 4, 32))
    with pytest.raises(ValueError, match="depth"):
        UNetDiscriminator(depth=0)


def test_each_logit_sees_context_and_weighs_its_own_pixel_most():
    """One output pixel's gradient spans a 64 px window (three stride-2 levels and back), and is largest
    at that pixel (the full-resolution skip): each logit judges its own pixel in context."""
    torch.manual_seed(0)
    d = UNetDiscriminator(in_channels=1, base_width=4, depth=3, spectral=False).double()
    x = torch.randn(1, 1, 96, 96, dtype=torch.float64, requires_grad=True)
    d(x)[0, 0, 48, 48].backward()
    grad = x.grad[0, 0].abs()
    rows, cols = grad.sum(1).nonzero(), grad.sum(0).nonzero()
    assert int(rows.max() - rows.min() + 1) == int(cols.max() - cols.min() + 1) == 64
    near = grad[46:51, 46:51].mean()
    ring = torch.cat([grad[16:24, 16:80].flatten(), grad[72:80, 16:80].flatten()]).mean()
    assert near > 10 * ring


def test_spectral_norm_on_inner_convs_bounds_their_gain():
    torch.manual_seed(0)
    d = UNetDiscriminator(base_width=4, depth=2)
    x = torch.randn(2, 3, 32, 32)
    for _ in range(20):   # power iterations run in train-mode forwards
        d(x)
    d.eval()
    inner = [m for m in d.modules() if isinstance(m, nn.Conv2d) and parametrize.is_parametrized(m)]
    assert len(inner) == 2 + 2 + 2   # downs, ups, refine; the stem and output convs stay plain (Real-ESRGAN)
    with torch.no_grad():
        sigmas = [float(torch.linalg.matrix_norm(conv.weight.flatten(1), ord=2)) for conv in inner]
    assert sigmas == pytest.approx([1.0] * len(inner), abs=0.05)
    assert not parametrize.is_parametrized(d.stem) and not parametrize.is_parametrized(d.out)


def test_it_learns_to_tell_sharp_from_smoothed_per_pixel():
    """A few Adam steps separate sharp noise from its blurred copy: the critic is trainable, not just shaped."""
    torch.manual_seed(0)
    d = UNetDiscriminator(base_width=8, depth=2)
    opt = torch.optim.Adam(d.parameters(), lr=2e-3)
    blur = nn.AvgPool2d(5, stride=1, padding=2, count_include_pad=False)
    for _ in range(60):
        real = torch.rand(4, 3, 32, 32)
        fake = blur(real)
        loss = nn.functional.softplus(-d(real)).mean() + nn.functional.softplus(d(fake)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    real = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        assert (d(real) > d(blur(real))).float().mean() > 0.9
