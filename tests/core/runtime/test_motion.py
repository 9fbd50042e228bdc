"""`--motion`: a straight streak is found in the photo and deconvolved out; bad values are one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

from gan_app.errors import UserError
from gan_app.runtime.motion import deconvolve, estimate_motion, line_psf, parse_motion, remove_motion, resolve_motion


def _streaked(sharp: np.ndarray, length: int, angle: float, seed: int = 0) -> np.ndarray:
    """`sharp` (H, W, 3) in [0, 1] blurred by a smooth straight streak drawn independently of `line_psf`
    (reflect borders), with a little noise and 8-bit rounding, as a camera file would be."""
    import kornia
    import torch

    from gan_app.apps.deblur.blur import smooth_line_psf

    kernel = torch.from_numpy(smooth_line_psf(length, angle)[None])
    image = torch.from_numpy(sharp.transpose(2, 0, 1)[None].astype(np.float32))
    blurred = kornia.filters.filter2d(image, kernel, border_type="reflect")[0].numpy().transpose(1, 2, 0)
    noisy = blurred + np.random.default_rng(seed).normal(0, 0.003, blurred.shape)
    return np.round(np.clip(noisy, 0, 1) * 255) / 255


@pytest.fixture(scope="module")
def sharp() -> np.ndarray:
    from skimage import data

    return data.astronaut()[:256, 128:384].astype(np.float64) / 255        # (256, 256, 3)


@pytest.mark.parametrize("length, angle", [(25, 30.0), (41, 120.0), (15, 0.0)])
def test_the_streak_is_read_from_the_photo(sharp, length, angle):
    found_length, found_angle = estimate_motion(_streaked(sharp, length, angle).mean(axis=2))
    assert abs(found_length - length) <= 2.5
    assert min(abs(found_angle - angle) % 180, 180 - abs(found_angle - angle) % 180) <= 4


def test_deconvolution_restores_what_the_streak_took(sharp):
    from gan_app.metrics.fidelity import psnr

    def inside(image):          # away from the borders, which the synthetic streak makes up by reflection
        return image[40:-40, 40:-40]

    blurred = _streaked(sharp, 31, 60.0)
    auto = remove_motion(blurred, "auto")
    assert auto.shape == blurred.shape and auto.dtype == np.float32 and 0 <= auto.min() and auto.max() <= 1
    assert psnr(inside(auto), inside(sharp)) > psnr(inside(blurred), inside(sharp)) + 3     # measured +4.3 dB
    wrong = deconvolve(blurred.astype(np.float32), line_psf(31, 150.0))     # the streak turned 90 degrees
    assert psnr(inside(wrong), inside(sharp)) < psnr(inside(auto), inside(sharp)) - 2
    assert remove_motion(blurred, "off") is blurred and remove_motion(blurred, None) is blurred


def test_line_psf_is_a_normalised_segment():
    psf = line_psf(20.0, 0.0)
    assert psf.shape[0] % 2 == 1 and psf.sum() == pytest.approx(1.0)
    row = psf[psf.shape[0] // 2]
    assert row.sum() == pytest.approx(1.0) and 19 <= np.count_nonzero(row > 1e-3) <= 22   # horizontal, ~20 px long
    diagonal = line_psf(20.0, 45.0)
    half = diagonal.shape[0] // 2
    assert np.allclose(diagonal, diagonal.T) and np.allclose(diagonal, diagonal[::-1, ::-1])
    assert diagonal[:half, half + 1:].sum() > 0.4 and diagonal[:half, :half].sum() == 0   # lower left to upper right


@pytest.mark.parametrize("text, expected", [("auto", "auto"), ("AUTO", "auto"), ("off", None), (None, None),
                                            ("30,45", (30.0, 45.0)), ("30,225", (30.0, 45.0)), ((12, -30), (12.0, 150.0))])
def test_motion_values(text, expected):
    assert parse_motion(text) == expected
    assert resolve_motion(np.zeros((8, 8, 3)), text if expected != "auto" else "off") == (expected if expected != "auto" else None)


@pytest.mark.parametrize("text", ["5", "1,45", "abc,1", "30,nan", "30,45,2", "900,10"])
def test_bad_motion_values_are_one_line_errors(text):
    with pytest.raises(UserError, match="--motion") as info:
        parse_motion(text)
    assert "\n" not in str(info.value)


def test_the_api_deconvolves_before_the_model_and_a_clip_reads_the_streak_once(sharp):
    import gan_app
    from gan_app.api import RoutedImageModel

    blurred = (_streaked(sharp[:128, :128], 21, 45.0) * 255).astype(np.uint8)
    plain = gan_app.load("deblur-v2", threads=1)
    given = plain.with_motion("21,45")
    expected = plain((remove_motion(blurred, (21.0, 45.0)) * 255).round().astype(np.uint8))
    assert np.abs(given(blurred).astype(int) - expected.astype(int)).max() <= 1     # uint8 vs float path: rounding
    routed = gan_app.load("deblur", threads=1).with_motion("auto")
    assert isinstance(routed, RoutedImageModel) and routed.motion == "auto"
    clip_model = routed.for_clip(blurred)
    assert clip_model.motion == pytest.approx(resolve_motion(blurred, "auto"))     # fixed for every frame
    with pytest.raises(UserError, match="same-size"):
        gan_app.load("superres-x4-psnr", threads=1).with_motion("auto")
