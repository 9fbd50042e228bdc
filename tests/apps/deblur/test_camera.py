"""Realistic camera shake (camera.py): linear light, roll, highlights, noise, alignment."""

import numpy as np
import pytest
import torch

from gan_app.apps.deblur.blur import blur, trajectory_to_psf
from gan_app.apps.deblur.camera import (CameraParams, boost_highlights, camera_path, grid_nodes, linear_to_srgb,
                                        local_psfs, realistic_pair, spatially_varying_blur, srgb_to_linear)
from gan_app.apps.deblur.data import DeblurDataConfig, SyntheticBlurDataset, evaluation_pairs

QUIET = CameraParams(max_shot=1e-12, max_read=1e-12, jpeg_prob=0.0, highlight_prob=0.0)


def test_srgb_curve_matches_the_standard():
    x = torch.tensor([0.0, 0.04045, 0.5, 1.0]).view(1, 4, 1, 1).expand(1, 4, 1, 1)[:, :3]
    lin = srgb_to_linear(torch.tensor([0.5, 0.5, 0.5]).view(1, 3, 1, 1))
    assert float(lin[0, 0]) == pytest.approx(((0.5 + 0.055) / 1.055) ** 2.4, abs=1e-6)   # 0.2140
    torch.testing.assert_close(linear_to_srgb(srgb_to_linear(x)), x, atol=1e-5, rtol=0)


def test_blur_in_linear_light_brightens_an_edge_by_hand():
    """A black|white edge averaged by a 2-tap box in linear light is sRGB(0.5) = 0.7354 at the edge, not 0.5."""
    img = torch.zeros(1, 3, 4, 8)
    img[..., 4:] = 1.0
    psf = torch.zeros(1, 3, 3)
    psf[0, 1, 1] = psf[0, 1, 2] = 0.5                      # convolution: out[x] = (in[x] + in[x - 1]) / 2
    out = linear_to_srgb(spatially_varying_blur(srgb_to_linear(img), psf, grid=1))
    assert float(out[0, 0, 2, 4]) == pytest.approx(1.055 * 0.5 ** (1 / 2.4) - 0.055, abs=1e-4)   # 0.7354
    assert float(out[0, 0, 2, 2]) == pytest.approx(0.0, abs=1e-6) and float(out[0, 0, 2, 6]) == pytest.approx(1.0)
    assert float(blur(img, psf[0])[0, 0, 2, 4]) == pytest.approx(0.5, abs=1e-6)   # the sRGB blur differs


def test_spatially_varying_blur_with_one_psf_is_the_plain_blur_and_weights_sum_to_one():
    rng = np.random.default_rng(0)
    img = torch.from_numpy(rng.random((1, 3, 40, 52)).astype(np.float32))
    psf = torch.from_numpy(trajectory_to_psf(np.linspace(0, 6, 50) * (1 + 0.5j), 9))
    same = spatially_varying_blur(img, psf.expand(9, 9, 9).contiguous(), grid=3)
    torch.testing.assert_close(same, blur(img, psf), atol=1e-5, rtol=0)


def test_roll_lengthens_the_path_away_from_the_centre():
    translation, roll = camera_path(np.random.default_rng(1), CameraParams(min_length=10, max_length=10,
                                                                           max_roll_deg=2.0))
    assert abs(translation.mean()) < 1e-9 and abs(roll.mean()) < 1e-12 and np.ptp(roll) > 0
    centre = complex(500, 500)
    psfs = local_psfs(translation * 0, roll, np.array([centre, centre + 400]), centre, 31)   # roll only
    spread = [(p > 1e-4).sum() for p in psfs]
    assert spread[0] == pytest.approx(1, abs=3) and spread[1] > 5 * spread[0]   # the centre stays put
    assert grid_nodes(10, 20, 5, 9, 3)[[0, 8]].tolist() == [complex(20, 10), complex(28, 14)]


def test_highlights_boost_only_near_white():
    lin = torch.tensor([0.1, 0.5, 1.0]).view(1, 1, 1, 3).expand(1, 3, 1, 3).contiguous()
    out = boost_highlights(lin, 3.0)
    torch.testing.assert_close(out[..., :2], lin[..., :2])
    assert float(out[0, 0, 0, 2]) == pytest.approx(4.0)


def test_realistic_pair_is_aligned_and_noise_and_jpeg_are_applied():
    rng = np.random.default_rng(2)
    sharp = torch.from_numpy(np.kron(rng.random((3, 12, 12)), np.ones((1, 8, 8))).astype(np.float32))   # (3, 96, 96)
    blurred, target = realistic_pair(sharp, 0, 0, (96, 96), QUIET, np.random.default_rng(3))
    assert blurred.shape == target.shape == sharp.shape
    torch.testing.assert_close(target, sharp, atol=2e-5, rtol=0)               # no highlights: target is the photo
    shifts = {(dy, dx): float((torch.roll(blurred, (dy, dx), (1, 2)) - target)[:, 16:-16, 16:-16].abs().mean())
              for dy in (-2, 0, 2) for dx in (-2, 0, 2)}
    assert min(shifts, key=shifts.get) == (0, 0)                                # mean pose: no shift
    noisy, _ = realistic_pair(torch.full((3, 64, 64), 0.5), 0, 0, (64, 64), CameraParams(jpeg_prob=0.0),
                              np.random.default_rng(4))
    assert float(noisy.std()) > 1 / 255                                         # shot + read noise on a flat grey


def test_dataset_mixes_realistic_samples_with_margin_for_the_path(tmp_path):
    photos = [np.random.default_rng(i).integers(0, 255, (200, 240, 3), dtype=np.uint8) for i in range(2)]
    ds = SyntheticBlurDataset(photos, DeblurDataConfig(crop=64, realistic=1.0, camera_max_length=20, epoch_size=2))
    assert ds.margin >= 10
    item = ds[0]
    assert item["source"].shape == item["target"].shape == (3, 64, 64)


def test_still_camera_samples_are_sharp_but_noisy_and_shake_samples_are_blurred():
    """`data.still`: the camera pipeline without blur; its source differs from the target by noise and
    JPEG only, far less than a shaken sample's (same photo, same crops)."""
    rng = np.random.default_rng(0)
    photos = [np.kron(rng.integers(0, 255, (25, 30, 3)), np.ones((8, 8, 1))).astype(np.uint8)]   # (200, 240, 3)

    def error(**cfg):
        torch.manual_seed(5)
        ds = SyntheticBlurDataset(photos, DeblurDataConfig(crop=64, camera_min_length=15, camera_max_length=20,
                                                           epoch_size=4, **cfg))
        items = [ds[i] for i in range(4)]
        return float(np.mean([(it["source"] - it["target"]).abs().mean() for it in items]))

    still, shaken = error(still=1.0), error(realistic=1.0)
    assert 0 < still < 0.5 * shaken


def test_realistic_evaluation_splits_are_deterministic_and_long_is_blurrier():
    a = evaluation_pairs(DeblurDataConfig(), max_side=128, split="realistic")
    b = evaluation_pairs(DeblurDataConfig(), max_side=128, split="realistic")
    long = evaluation_pairs(DeblurDataConfig(), max_side=128, split="realistic_long")
    assert [n for n, *_ in a] == [n for n, *_ in long] and len(a) >= 4
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    err = lambda pairs: np.mean([np.abs(bl - sh).mean() for _, bl, sh in pairs])   # noqa: E731
    assert err(long) > err(a)
