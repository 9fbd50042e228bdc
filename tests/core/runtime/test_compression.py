"""The JPEG-grid test behind deblur's `--model auto`: JPEG files score above the threshold, lossless ones not."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageFilter

from gan_app.runtime.compression import JPEG_GRID, jpeg_grid_strength, looks_jpeg_compressed


def _blurred_photo(photo: np.ndarray) -> np.ndarray:
    """A motion-blurred-looking copy of the test photo, uint8 (H, W, 3): smooth, as deblur inputs are."""
    return np.asarray(Image.fromarray(photo).filter(ImageFilter.BoxBlur(3)))


def _through_jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=quality)
    return np.asarray(Image.open(buffer))


def test_a_jpeg_shows_its_grid_and_a_lossless_image_does_not(photo):
    smooth = _blurred_photo(photo)
    assert jpeg_grid_strength(smooth) < JPEG_GRID and not looks_jpeg_compressed(smooth)
    for quality in (75, 90):
        compressed = _through_jpeg(smooth, quality)
        assert jpeg_grid_strength(compressed) > JPEG_GRID and looks_jpeg_compressed(compressed)
    # a crop off the 8 px grid no longer reads as a file's JPEG (documented limit: the grid is read at the origin)
    assert jpeg_grid_strength(_through_jpeg(smooth, 75)[3:, 5:]) < JPEG_GRID


def test_dtypes_and_layouts_read_alike(photo):
    compressed = _through_jpeg(_blurred_photo(photo), 80)
    score = jpeg_grid_strength(compressed)
    assert jpeg_grid_strength(compressed.astype(np.float32) / 255) == pytest.approx(score, rel=1e-5)
    assert jpeg_grid_strength(compressed.astype(np.uint16) * 257) == pytest.approx(score, rel=1e-5)
    grey = compressed.mean(axis=2).astype(np.float32) / 255
    assert jpeg_grid_strength(grey) == pytest.approx(score, rel=1e-5)


def test_flat_and_tiny_images_score_one():
    assert jpeg_grid_strength(np.full((64, 64, 3), 128, np.uint8)) == 1.0   # no steps at all
    assert jpeg_grid_strength(np.random.default_rng(0).random((16, 200, 3))) == 1.0   # too few blocks
