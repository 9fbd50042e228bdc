"""Blur synthesis: PSFs are valid kernels and `blur` is a true convolution."""

import numpy as np
import pytest
import torch
from scipy.signal import convolve2d

from gan_app.apps.deblur.blur import (ShakeParams, blur, random_linear_psf, random_shake_psf, shake_trajectory,
                                      trajectory_to_psf)


def test_trajectory_has_the_requested_length():
    rng = np.random.default_rng(0)
    x = shake_trajectory(rng, ShakeParams(max_length=15.0, samples=500))
    assert np.sum(np.abs(np.diff(x))) == pytest.approx(15.0, rel=1e-6)


@pytest.mark.parametrize("seed", range(5))
def test_shake_psf_is_normalised_centred_and_spread(seed):
    psf = random_shake_psf(np.random.default_rng(seed), ShakeParams(kernel_size=31, max_length=20.0))
    assert psf.shape == (31, 31) and psf.min() >= 0
    assert psf.sum() == pytest.approx(1.0, abs=1e-5)
    ys, xs = np.mgrid[0:31, 0:31]
    assert (psf * ys).sum() == pytest.approx(15.0, abs=0.6)   # mass-centred: blur does not shift the image
    assert (psf * xs).sum() == pytest.approx(15.0, abs=0.6)
    assert (psf > 1e-3).sum() >= 3                            # a path, not a Dirac


def test_straight_trajectory_gives_a_line_psf():
    x = np.linspace(0, 8, 200).astype(np.complex128)           # horizontal 8 px path
    psf = trajectory_to_psf(x, 15)
    rows = np.nonzero(psf.sum(axis=1) > 1e-6)[0]
    assert len(rows) <= 2 and (psf.sum(axis=0) > 1e-6).sum() in (9, 10)


def test_linear_psf_from_kornia_is_normalised():
    psf = random_linear_psf(np.random.default_rng(1), 31, 15)
    assert psf.shape == (31, 31) and psf.sum() == pytest.approx(1.0, abs=1e-5)


def test_blur_is_convolution_with_the_psf():
    rng = np.random.default_rng(3)
    img = rng.random((20, 24)).astype(np.float32)
    psf = np.zeros((5, 5), np.float32)
    psf[1, 0], psf[3, 4], psf[2, 2] = 0.5, 0.3, 0.2                 # asymmetric: catches correlation vs convolution
    out = blur(torch.from_numpy(img)[None, None], torch.from_numpy(psf))[0, 0].numpy()
    ref = convolve2d(np.pad(img, 2, mode="reflect"), psf, mode="valid")
    np.testing.assert_allclose(out, ref, atol=1e-5)


def test_blur_applies_one_psf_per_image_with_large_kernels():
    rng = np.random.default_rng(4)
    imgs = rng.random((2, 3, 40, 36)).astype(np.float32)
    psfs = np.stack([random_shake_psf(rng, ShakeParams(kernel_size=31, max_length=18.0)) for _ in range(2)])
    out = blur(torch.from_numpy(imgs), torch.from_numpy(psfs)).numpy()
    for b in range(2):
        for c in range(3):
            ref = convolve2d(np.pad(imgs[b, c], 15, mode="reflect"), psfs[b], mode="valid")
            np.testing.assert_allclose(out[b, c], ref, atol=1e-5)
