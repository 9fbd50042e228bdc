"""`--blur-scale auto`: the level rule, the crops an estimate reads, and the shipped estimator on a synthetic case."""

import numpy as np
import pytest
from PIL import Image

from gan_app.paths import shipped_blur_estimator
from gan_app.runtime.blur_extent import auto_level, estimate_radius, level_for, textured_crops


def test_level_is_the_finest_that_brings_the_blur_within_reach():
    assert level_for(0.0, 6) == 1 and level_for(6.0, 6) == 1
    assert level_for(6.1, 6) == 2 and level_for(12.0, 6) == 2
    assert level_for(12.1, 6) == 4 and level_for(500.0, 6) == 4       # beyond every level: the coarsest
    assert level_for(10.0, 12) == 1


def test_crops_come_from_the_textured_part_and_small_images_are_padded():
    rng = np.random.default_rng(0)
    image = np.full((3, 256, 512), 0.5, np.float32)
    image[:, :, 256:] = rng.random((3, 256, 256))                       # right half textured, left half flat
    crops = textured_crops(image, 128, count=4)
    assert crops.shape == (4, 3, 128, 128) and all(c.std() > 0.2 for c in crops)
    grey_small = (rng.random((1, 90, 70)) * 65535).astype(np.uint16)   # grey, 16-bit, smaller than a crop
    small = textured_crops(grey_small, 128)
    assert small.shape == (1, 3, 128, 128) and small.max() <= 1.0
    assert np.array_equal(small[0, 0, :90, :70], small[0, 2, :90, :70])


needs_estimator = pytest.mark.skipif(not shipped_blur_estimator().is_file(), reason="no shipped blur-extent estimator")


def _photo() -> Image.Image:
    """A real photo (scikit-image's astronaut), 512 px, RGB."""
    import skimage.data
    return Image.fromarray(skimage.data.astronaut())


def _motion_blurred(photo: Image.Image, length: int) -> np.ndarray:
    """`photo` blurred by a horizontal box of `length` px (RMS radius ~length / sqrt(12)): (3, H, W) float."""
    x = np.asarray(photo, np.float32) / 255                                               # (H, W, 3)
    padded = np.pad(x, ((0, 0), (length // 2, length - 1 - length // 2), (0, 0)), mode="reflect")
    return (sum(padded[:, i:i + x.shape[1]] for i in range(length)) / length).transpose(2, 0, 1)


@needs_estimator
def test_shipped_estimator_orders_blur_and_auto_picks_the_levels_it_should():
    photo = _photo()
    sharp = np.asarray(photo, np.float32).transpose(2, 0, 1) / 255
    radii = [estimate_radius(_motion_blurred(photo, n)) for n in (5, 9, 15)]      # RMS 1.4, 2.6, 4.3 px
    assert estimate_radius(sharp) < radii[0] < radii[1] < radii[2]
    long = _motion_blurred(photo, 45)                                              # RMS 13 px
    assert estimate_radius(long) > radii[1]
    assert auto_level(sharp, reach=4) == 1 and auto_level(_motion_blurred(photo, 9), reach=4) == 1
    assert auto_level(long, reach=4) == 2


@needs_estimator
def test_a_photo_without_edges_reads_no_blur():
    yy, xx = np.mgrid[0:384, 0:384] / 384.0
    smooth = np.stack([0.3 + 0.4 * xx, 0.5 + 0.2 * np.sin(3 * yy), 0.4 + 0.1 * xx * yy]).astype(np.float32)
    assert estimate_radius(smooth) == 0.0 and auto_level(smooth, reach=1) == 1
