"""Scale-aware inference: the correction comes back up without losing detail; levels are checked."""

import numpy as np
import pytest
from scipy.ndimage import uniform_filter1d

from gan_app.errors import UserError
from gan_app.runtime.pyramid import downscale, infer_at_level, parse_level, restore_scale_aware
from gan_app.runtime.session import load_model


@pytest.fixture(scope="module")
def steepener(tiny, tmp_path_factory):
    path = tmp_path_factory.mktemp("pyramid") / "steepen.onnx"
    tiny.export_tiny(path, "steepen")
    return load_model(path)


def _edges(size=192, block=24, seed=0):
    """(3, size, size) float32 blocky image: hard edges every `block` px."""
    base = np.random.default_rng(seed).random((3, size // block, size // block))
    return np.kron(base, np.ones((1, block, block))).astype(np.float32)


def _motion(image, length):
    """Horizontal box motion blur of `length` px."""
    return uniform_filter1d(image, length, axis=2, mode="reflect").astype(np.float32) if length > 1 else image


def test_the_full_resolution_detail_survives_a_coarse_level(steepener):
    """Only the model's correction comes back up: pixel-level texture of the input stays, unlike
    deblurring a small copy and upscaling it."""
    from PIL import Image

    from gan_app.runtime.pyramid import resize

    image = _edges() + 0.05 * np.random.default_rng(1).standard_normal((3, 192, 192)).astype(np.float32)
    out = infer_at_level(steepener, image, 4)
    naive = resize(infer_at_level(steepener, downscale(image, 4), 1), 192, 192, Image.BICUBIC)
    assert out.shape == image.shape and downscale(image, 4).shape == (3, 48, 48)
    fine = lambda x: x - resize(downscale(x, 4), 192, 192, Image.BICUBIC)   # noqa: E731  detail above the level
    kept, lost = np.abs(fine(out) - fine(image)).mean(), np.abs(fine(naive) - fine(image)).mean()
    assert kept < 0.5 * lost and kept < 0.5 * np.abs(fine(image)).mean()


def test_level_values_and_models_are_checked(exported, photo):
    assert parse_level("2") == 2 and parse_level(" 4") == 4 and parse_level("Auto") == "auto"
    for bad in ("3", "0", "-1", "autox", ""):
        with pytest.raises(UserError, match="--blur-scale must be auto or one of 1, 2, 4"):
            parse_level(bad)
    with pytest.raises(UserError, match="changes the image size"):
        restore_scale_aware(load_model(exported["sr"]), photo.transpose(2, 0, 1), 2)
    conv = load_model(exported["conv"])
    out = restore_scale_aware(conv, photo.transpose(2, 0, 1), 2)          # uint8 in, [0, 1] float out
    assert out.shape == (3, 96, 128) and out.dtype == np.float32 and 0.05 < out.mean() < 0.95


def _pillow(image, height, width, resample):
    """(C, H, W) float32 resized whole by Pillow, the reference for the banded resize."""
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(ch).resize((width, height), resample)) for ch in image])


@pytest.mark.parametrize("size", [(96, 128), (97, 131), (203, 150)])
@pytest.mark.parametrize("level", [2, 4])
def test_banded_levels_match_whole_images_and_round_exactly(steepener, photo, monkeypatch, size, level):
    """Downscale and upsample + add run in bands of rows: the same pixels as whole-image Pillow where the
    height divides by the level (float32 rounding apart otherwise); uint8/uint16 output is exactly the
    float output rounded."""
    from PIL import Image

    from gan_app.runtime import pyramid
    from gan_app.runtime.tiling import infer_image

    monkeypatch.setattr(pyramid, "BAND_PIXELS", 1000)                        # many bands of a few rows
    image = np.kron(photo, np.ones((3, 2, 1), np.uint8))[: size[0], : size[1]].transpose(2, 0, 1)   # (3, h, w) uint8
    out = restore_scale_aware(steepener, image, level)
    unit = image.astype(np.float32) / 255
    small = _pillow(unit, -(-size[0] // level), -(-size[1] // level), Image.BOX)
    np.testing.assert_array_equal(downscale(image, level), small)
    whole = unit + _pillow(infer_image(steepener, small) - small, *size, Image.BICUBIC)
    exact = size[0] % level == 0
    np.testing.assert_allclose(out, whole, rtol=0, atol=0 if exact else 1e-6)
    for dtype in (np.uint8, np.uint16):
        rounded = restore_scale_aware(steepener, image, level, dtype=dtype)
        full = np.float32(np.iinfo(dtype).max)
        np.testing.assert_array_equal(rounded, np.round(np.clip(out, 0, 1) * full).astype(dtype))
