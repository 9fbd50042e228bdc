"""Does an image carry JPEG's 8 x 8 block grid? A pixel-level test, so it works on arrays as on files.

JPEG codes 8 x 8 blocks independently, so quantisation leaves slightly larger luma steps across block
boundaries than inside blocks (the "blockiness" that no-reference JPEG quality measures read, e.g. Wang,
Sheikh and Bovik 2002). On a blurred photo the grid is most of what is left of high frequencies and shows
clearly at quality <= 93; on a photo that never went through JPEG, or was resized or cropped off the grid
after it, the block-boundary steps are like any others. The score: the mean absolute luma step across
block boundaries (between columns 8k-1 and 8k, as a decoded JPEG file has them) over the median of the
other seven column phases, averaged over the two axes: ~1.0 without a grid. The fixed phase is read, not
the strongest of the eight, because the strongest of eight is biased above 1 on every image (on
calibration photos it left too little margin between blurred PNGs and JPEGs: docs/benchmarks.md).
Hand-written because it is a few lines of numpy and the runtime is torch-free.

Images are (H, W, C) or (H, W), uint8/uint16 (full range) or float in [0, 1].
"""

from __future__ import annotations

import numpy as np

from gan_app.runtime.images import to_unit

BLOCK = 8
MIN_SIDE = 4 * BLOCK     # smaller images carry too few blocks to read a grid from: score 1.0
# Above this an image counts as JPEG-compressed: halfway between the highest score of the calibration
# photos blurred without JPEG (1.036) and the lowest of the same photos through the camera pipeline with
# JPEG q90 (1.095); `python benchmarks/deblur.py route` recomputes both. Catches q <= 93 on blurred photos,
# most q95 files, few q97.
JPEG_GRID = 1.065


def _boundary_ratio(luma: np.ndarray, axis: int) -> float:
    """Block-boundary step over the median of the other phases' steps, along `axis` of `luma` (H, W)."""
    steps = np.abs(np.diff(luma, axis=axis))
    steps = steps if axis == 1 else steps.T                          # steps between columns: (rows, W - 1)
    usable = steps.shape[1] - steps.shape[1] % BLOCK
    phases = steps[:, :usable].reshape(steps.shape[0], -1, BLOCK).mean(axis=(0, 1))   # (8,): step j -> j+1, j % 8
    others = float(np.median(phases[:BLOCK - 1]))
    return float(phases[BLOCK - 1] / others) if others > 0 else 1.0


def jpeg_grid_strength(image: np.ndarray) -> float:
    """How strongly `image` shows JPEG's 8 x 8 grid at its origin: ~1.0 for none, above `JPEG_GRID` for a JPEG's."""
    pixels = to_unit(np.asarray(image))
    luma = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    if min(luma.shape) < MIN_SIDE:
        return 1.0
    return (_boundary_ratio(luma, 1) + _boundary_ratio(luma, 0)) / 2


def looks_jpeg_compressed(image: np.ndarray) -> bool:
    """True when `image` shows a JPEG block grid (`jpeg_grid_strength` above `JPEG_GRID`)."""
    return jpeg_grid_strength(image) > JPEG_GRID
