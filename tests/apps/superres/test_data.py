"""LR synthesis and the super-resolution datasets."""

import numpy as np
import pytest
import torch
from PIL import Image

from gan_app.apps.superres.data import SRDataConfig, build_dataset, evaluation_pairs
from gan_app.apps.superres.degrade import bicubic_down, realistic_down
from gan_app.data.photos import HELD_OUT
from gan_app.errors import UserError


def _u8(t):
    return (t.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def _photos(folder, n=2, size=(64, 80), seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        base = rng.random((size[0] // 8, size[1] // 8, 3))
        Image.fromarray((np.kron(base, np.ones((8, 8, 1))) * 255).astype(np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_bicubic_down_keeps_a_linear_ramp_at_block_centres():
    # symmetric kernels summing to 1 reproduce linear functions: LR pixel i = ramp((i + 0.5) * s - 0.5)
    x = np.arange(96, dtype=np.float64)
    hr = np.repeat(np.repeat((x * 2.0 + 20)[None, :, None], 32, axis=0), 3, axis=2).astype(np.uint8)
    lr = bicubic_down(hr, 4)
    assert lr.shape == (8, 24, 3) and lr.dtype == np.uint8
    centres = (np.arange(24) + 0.5) * 4 - 0.5
    np.testing.assert_allclose(lr[4, 2:-2, 0], (centres * 2.0 + 20)[2:-2], atol=0.6)
    with pytest.raises(ValueError, match="multiple"):
        bicubic_down(hr[:30], 4)


def test_hr_folder_items_are_aligned_bicubic_pairs_and_seeded(tmp_path):
    ds = build_dataset(SRDataConfig(path=str(_photos(tmp_path / "hr_only")), crop=32, epoch_size=4), scale=4)
    torch.manual_seed(3)
    a = ds[0]
    torch.manual_seed(3)
    b = ds[0]
    assert a["source"].shape == (3, 8, 8) and a["target"].shape == (3, 32, 32)
    assert torch.equal(a["source"], b["source"]) and torch.equal(a["target"], b["target"])
    np.testing.assert_array_equal(_u8(a["source"]), bicubic_down(_u8(a["target"]), 4))   # LR made from this very HR


def test_paired_folder_crops_hr_at_the_lr_footprint(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "lr").mkdir(), (tmp_path / "hr").mkdir()
    for i in range(2):                                   # HR = each LR pixel repeated 2x2: alignment is checkable
        lr = (rng.random((32, 48, 3)) * 255).astype(np.uint8)
        Image.fromarray(lr).save(tmp_path / "lr" / f"p{i}.png")
        Image.fromarray(np.kron(lr, np.ones((2, 2, 1), np.uint8))).save(tmp_path / "hr" / f"p{i}.png")
    ds = build_dataset(SRDataConfig(path=str(tmp_path), crop=16), scale=2)
    assert len(ds) == 2
    for k in range(4):
        torch.manual_seed(k)
        item = ds[k % 2]
        assert item["source"].shape == (3, 8, 8) and item["target"].shape == (3, 16, 16)
        torch.testing.assert_close(item["target"][:, ::2, ::2], item["source"], atol=0, rtol=0)
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(tmp_path / "lr" / "p0.png")
    with pytest.raises(UserError, match="exactly scale x LR"):
        ds[0]


def test_realistic_degradation_is_seeded_degrades_and_keeps_brightness():
    hr = (np.kron(np.random.default_rng(0).random((8, 8, 3)), np.ones((8, 8, 1))) * 255).astype(np.uint8)
    a, b = (realistic_down(hr, 4, np.random.default_rng(7)) for _ in range(2))
    c = realistic_down(hr, 4, np.random.default_rng(8))
    assert a.shape == (16, 16, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    clean = bicubic_down(hr, 4).astype(np.float64)
    assert np.abs(a - clean).mean() > 2                                  # really a different degradation
    assert abs(a.mean() - clean.mean()) < 0.06 * 255                     # not a brightness change


def test_realistic_dataset_items(tmp_path):
    ds = build_dataset(SRDataConfig(path=str(_photos(tmp_path / "hr")), crop=32, degradation="realistic"), scale=4)
    assert ds[0]["source"].shape == (3, 8, 8) and ds[0]["target"].shape == (3, 32, 32)


def test_a_bicubic_share_mixes_clean_items_into_a_degraded_recipe_and_stays_seeded(tmp_path):
    folder = str(_photos(tmp_path / "hr", n=3))
    plain = build_dataset(SRDataConfig(path=folder, crop=32, degradation="photo", epoch_size=40), scale=4)
    mixed = build_dataset(SRDataConfig(path=folder, crop=32, degradation="photo", epoch_size=40, bicubic_share=0.5),
                          scale=4)

    def is_bicubic(item):
        return np.array_equal(_u8(item["source"]), bicubic_down(_u8(item["target"]), 4))

    def items(ds):
        torch.manual_seed(5)
        return [ds[i] for i in range(40)]

    assert not any(is_bicubic(item) for item in items(plain))      # the photo chain always degrades
    clean = sum(is_bicubic(item) for item in items(mixed))
    assert 10 <= clean <= 30                                        # about half (binomial 40 x 0.5)
    again = items(mixed)
    assert all(torch.equal(a["source"], b["source"]) for a, b in zip(items(mixed), again))   # seeded


def test_bad_data_configs_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="multiple of the scale"):
        build_dataset(SRDataConfig(crop=30), scale=4)
    with pytest.raises(UserError, match="degradation"):
        build_dataset(SRDataConfig(degradation="blurry"), scale=4)
    with pytest.raises(UserError, match="bicubic_share .* from 0 to 1"):
        build_dataset(SRDataConfig(degradation="photo", bicubic_share=1.5), scale=4)
    with pytest.raises(UserError, match="not a folder"):
        build_dataset(SRDataConfig(path=str(tmp_path / "missing")), scale=4)


def test_evaluation_pairs_are_held_out_and_scaled():
    pairs = evaluation_pairs(4, max_side=64)
    if not pairs:
        pytest.skip("offline photos unavailable")
    assert {name for name, *_ in pairs} <= HELD_OUT
    for _, lr, hr in pairs:
        assert hr.shape == (lr.shape[0] * 4, lr.shape[1] * 4, 3) and hr.shape[0] <= 64


def test_camera_degradation_pieces_do_what_they_claim():
    from gan_app.apps.superres.degrade import CameraParams, _gaussian_kernel, _jpeg, camera_down, RealisticParams

    kernel = _gaussian_kernel(np.random.default_rng(1), (0.4, 1.6))
    assert abs(float(kernel.sum()) - 1) < 1e-5 and float(kernel.min()) >= 0
    flat = np.full((64, 64, 3), 128, np.uint8)                 # blur, resize and JPEG keep a flat field: only noise is left
    quiet = CameraParams(noise=(3.0, 3.0), grey_noise_prob=0.0, jpeg=(95, 95))
    lr = camera_down(flat, 4, np.random.default_rng(2), quiet).astype(np.float64)
    assert lr.shape == (16, 16, 3) and 2.0 < lr.std() < 4.0     # ~3/255 asked (JPEG q95 smooths a little)
    texture = np.kron(np.random.default_rng(3).random((16, 16, 1)), np.ones((4, 4, 3)))   # grey: no chroma subsampling error
    img = torch.from_numpy(texture).permute(2, 0, 1)[None].float()
    lossy = _jpeg(img, RealisticParams(jpeg=(30, 30)), np.random.default_rng(4))
    fine = _jpeg(img, RealisticParams(jpeg=(95, 95)), np.random.default_rng(4))
    assert float((lossy - img).abs().mean()) > 2 * float((fine - img).abs().mean())   # lower quality, larger error
    a, b = (camera_down(flat, 4, np.random.default_rng(5)) for _ in range(2))
    assert np.array_equal(a, b)


def test_realworld_split_is_seeded_and_differs_from_bicubic():
    clean, real = evaluation_pairs(4, max_side=64), evaluation_pairs(4, max_side=64, split="realworld")
    if not clean:
        pytest.skip("offline photos unavailable")
    assert [n for n, *_ in clean] == [n for n, *_ in real]
    assert all(np.array_equal(c[2], r[2]) and not np.array_equal(c[1], r[1]) for c, r in zip(clean, real))
    again = evaluation_pairs(4, max_side=64, split="realworld")
    assert all(np.array_equal(r[1], g[1]) for r, g in zip(real, again))
    with pytest.raises(UserError, match="unknown evaluation split"):
        evaluation_pairs(4, split="jpeg")


def test_camera_training_degradation_covers_the_held_out_ranges_is_seeded_and_degrades(tmp_path):
    from gan_app.apps.superres.degrade import CAMERA_EVAL, CAMERA_TRAIN
    from gan_app.apps.superres.head import HEAD

    for name in ("sigma", "noise", "jpeg"):          # wider on both sides: the benchmark's box is inside, not the edge
        (tl, th), (el, eh) = getattr(CAMERA_TRAIN, name), getattr(CAMERA_EVAL, name)
        assert tl < el and th > eh, name
    folder = str(_photos(tmp_path / "hr", n=3))
    ds = build_dataset(SRDataConfig(path=folder, crop=32, degradation="camera", epoch_size=12), scale=4)

    def items():
        torch.manual_seed(9)
        return [ds[i] for i in range(12)]

    first, again = items(), items()
    assert all(torch.equal(a["source"], b["source"]) for a, b in zip(first, again))             # seeded
    assert all(item["source"].shape == (3, 8, 8) for item in first)
    clean = [bicubic_down(_u8(item["target"]), 4).astype(np.float64) for item in first]
    assert np.mean([np.abs(_u8(it["source"]) - c).mean() for it, c in zip(first, clean)]) > 1   # not bicubic
    camera, real = HEAD.recipe("real-camera"), HEAD.recipe("real")
    assert camera.model == real.model and camera.data.degradation == "camera" and camera.data.bicubic_share == 0.3
