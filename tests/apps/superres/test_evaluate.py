"""Evaluation helpers: the high-frequency energy measure and the scoring protocol."""

import numpy as np
import pytest
import torch
from PIL import Image

from gan_app.apps.superres.evaluate import high_frequency_energy, score, upscale_pil
from gan_app.apps.superres.model import SRLossConfig
from gan_app.apps.superres.objective import SRObjective
from gan_app.train.objective import Turn


def _waves(freq, size=128):
    """(size, size, 3) grey vertical stripes at `freq` cycles per pixel, in [0.25, 0.75]."""
    x = np.arange(size)
    img = 0.5 + 0.25 * np.sin(2 * np.pi * freq * x)[None, :].repeat(size, 0)
    return np.repeat(img[..., None], 3, axis=2)


def test_high_frequency_energy_counts_only_detail_above_the_lr_nyquist():
    # x4: the cutoff is 1/8 cycle per pixel; stripes at 0.3 are pure detail, at 0.05 pure structure
    fine, coarse = high_frequency_energy(_waves(0.3), 4), high_frequency_energy(_waves(0.05), 4)
    assert coarse < 1e-3 * fine
    # a sinusoid of amplitude A has power A^2 / 4 per +-f bin pair; the Hann window keeps it of that order
    assert fine > 0


def test_score_protocol_and_bicubic_loses_detail():
    rng = np.random.default_rng(0)
    hr = np.kron(rng.random((16, 16, 3)), np.ones((4, 4, 1)))             # (64, 64, 3) sharp blocks
    lr = hr[::4, ::4]
    bicubic = upscale_pil(lr, 4, Image.Resampling.BICUBIC)
    s = score(bicubic, hr, 4)
    assert s["hf_ratio"] < 1.0 and 0 < s["ssim"] < 1
    noisy = np.clip(hr + rng.normal(0, 0.01, hr.shape), 0, 1)
    # border crop = scale: corrupting only the 4-pixel border leaves PSNR unchanged
    framed = noisy.copy()
    framed[:4], framed[-4:], framed[:, :4], framed[:, -4:] = 0, 0, 0, 0
    assert score(framed, hr, 4)["psnr"] == pytest.approx(score(noisy, hr, 4)["psnr"])


def test_objective_terms_follow_the_config():
    batch = {"target": torch.zeros(1, 3, 8, 8)}
    fake = torch.full((1, 3, 8, 8), 0.25)
    terms = SRObjective(SRLossConfig(l1_weight=2.0)).generator_terms(batch, fake, Turn(None))
    assert list(terms) == ["l1"] and terms["l1"][0] == 2.0 and float(terms["l1"][1]) == pytest.approx(0.25)
    # NAFNet's PSNR loss instead of L1: MSE 0.0625 is 12.04 dB, so the term is -12.04
    terms = SRObjective(SRLossConfig(l1_weight=0.0, psnr_weight=0.5)).generator_terms(batch, fake, Turn(None))
    assert list(terms) == ["psnr"] and terms["psnr"][0] == 0.5
    assert float(terms["psnr"][1]) == pytest.approx(10 * np.log10(0.0625), rel=1e-4)


def test_card_names_the_psnr_loss_when_it_was_used():
    from gan_app.apps.superres.head import HEAD
    from gan_app.config import apply_overrides

    run = apply_overrides(HEAD.recipe("real-camera"), ["loss.l1_weight=0", "loss.psnr_weight=0.0013"])
    assert HEAD.card_info(run)["losses"] == ["psnr (minus per-image PSNR) x0.0013"]
