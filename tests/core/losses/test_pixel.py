"""Pixel losses: Charbonnier, frequency L1 and PSNR loss against hand-computed cases."""

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


def test_psnr_loss_is_minus_the_mean_of_per_image_psnr():
    from gan_app.losses.pixel import psnr_loss

    target = torch.zeros(2, 1, 2, 2)
    pred = target.clone()
    pred[0] += 0.1                      # image 0: MSE 0.01 -> 20 dB
    pred[1, 0, 0, 0] = 0.02             # image 1: MSE 0.0001 -> 40 dB
    # The mean of per-image PSNR (30 dB), not the PSNR of the mean MSE (~23 dB): what benchmarks report.
    assert float(psnr_loss(pred, target)) == pytest.approx(-30.0, abs=1e-3)   # eps 1e-8 moves it 2e-4
    loss = psnr_loss(pred.bfloat16(), target.bfloat16())
    assert loss.dtype == torch.float32 and float(loss) == pytest.approx(-30.0, abs=0.1)
    assert math.isfinite(float(psnr_loss(target, target)))      # eps keeps an exact match finite (80 dB)
    with pytest.raises(ValueError, match="shapes differ"):
        psnr_loss(pred, target[:1])


def test_psnr_loss_gradient_weights_each_image_by_its_inverse_error():
    from gan_app.losses.pixel import psnr_loss

    target = torch.zeros(2, 1, 1, 1)
    pred = torch.tensor([0.1, 0.01]).view(2, 1, 1, 1).requires_grad_()
    psnr_loss(pred, target).backward()
    # d/dx (10/ln10) * mean log(x^2) = (10/ln10) / B * 2 / x: the image 10x closer gets a 10x larger push.
    expected = (10 / math.log(10)) / 2 * 2 / pred.detach().flatten()
    assert torch.allclose(pred.grad.flatten(), expected, rtol=1e-3)


def test_psnr_is_a_content_loss_by_name():
    from gan_app.losses.content import content_loss
    from gan_app.losses.pixel import psnr_loss

    assert content_loss("psnr") is psnr_loss
