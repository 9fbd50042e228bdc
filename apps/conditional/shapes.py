"""`--data class-shapes`: a generated labelled set (square, disc, bar, cross) that needs no download.

Every image is one white shape of random position and size on black, drawn with numpy from a
fixed seed per split, so the tiny recipe and the head's contract test run anywhere and a
user can try the head before fetching a dataset.
"""

from __future__ import annotations

import numpy as np

from gan_app.data.image_folder import LabelledImages

SHAPES = ("square", "disc", "bar", "cross")
SEEDS = {"train": 0, "test": 1}
SPLIT_SIZES = {"train": 2000, "test": 400}   # images per split


def _draw(kind: str, size: int, cx: float, cy: float, r: float) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] + 0.5  # pixel centres
    dx, dy = np.abs(x - cx), np.abs(y - cy)
    if kind == "square":
        mask = (dx < r) & (dy < r)
    elif kind == "disc":
        mask = dx ** 2 + dy ** 2 < r ** 2
    elif kind == "bar":
        mask = (dx < r) & (dy < r / 3)
    else:  # cross: a bar and its transpose
        mask = ((dx < r) & (dy < r / 3)) | ((dy < r) & (dx < r / 3))
    return mask.astype(np.uint8) * 255  # (size, size)


def shapes(split: str, size: int) -> LabelledImages:
    """(N, 1, size, size) uint8 shapes with labels 0..3 in turn (N: 2000 train, 400 test)."""
    rng = np.random.default_rng(SEEDS[split])
    n = SPLIT_SIZES[split]
    labels = np.arange(n, dtype=np.int64) % len(SHAPES)
    images = np.empty((n, 1, size, size), dtype=np.uint8)
    for i, label in enumerate(labels):
        r = rng.uniform(0.2, 0.35) * size
        cx, cy = rng.uniform(r, size - r, 2)
        images[i, 0] = _draw(SHAPES[label], size, cx, cy, r)
    return LabelledImages(images, labels, SHAPES)
