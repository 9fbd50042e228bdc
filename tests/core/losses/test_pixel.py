"""Charbonnier loss closed form."""

import math

import pytest
import torch

from gan_app.losses.pixel import charbonnier_loss


def test_charbonnier_closed_form():
    pred = torch.tensor([[0.0, 1.0], [0.5, -2.0]])
    target = torch.tensor([[0.0, 0.0], [0.25, 1.0]])
    eps = 0.1
    expected = sum(math.sqrt(d * d + eps * eps) for d in (0.0, 1.0, 0.25, 3.0)) / 4
    assert charbonnier_loss(pred, target, eps=eps).item() == pytest.approx(expected, rel=1e-6)
    # Equal inputs cost exactly eps; far from 0 it behaves like L1.
    assert charbonnier_loss(target, target).item() == pytest.approx(1e-3)


def test_charbonnier_bf16_returns_fp32_and_checks_shape():
    pred, target = torch.rand(2, 3, 4, 4), torch.rand(2, 3, 4, 4)
    loss = charbonnier_loss(pred.bfloat16(), target.bfloat16())
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(charbonnier_loss(pred, target).item(), rel=2e-2)
    with pytest.raises(ValueError):
        charbonnier_loss(pred, target[:1])


def test_frequency_l1_is_the_mean_abs_of_the_orthonormal_spectrum_difference():
    import numpy as np

    from gan_app.losses.pixel import frequency_l1_loss

    rng = np.random.default_rng(0)
    a, b = (torch.from_numpy(rng.random((2, 3, 8, 10)).astype(np.float32)) for _ in range(2))
    spectrum = np.fft.rfft2((a - b).numpy(), norm="ortho")
    expected = np.mean(np.abs(np.stack([spectrum.real, spectrum.imag], -1)))
    assert float(frequency_l1_loss(a, b)) == pytest.approx(expected, rel=1e-5)
    assert float(frequency_l1_loss(a, a)) == 0.0
    with pytest.raises(ValueError, match="shapes differ"):
        frequency_l1_loss(a, b[..., :9])
