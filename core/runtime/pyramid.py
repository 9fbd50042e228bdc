"""Scale-aware inference: run a restoration model at the pyramid level where the degradation is in its range.

A deblurring model learns blur up to some length L in pixels. A shaken 24 MP photo may hold
blur several times longer; halving the image halves the blur. So the model runs on the image
downscaled by s (area average), and only its *correction* comes back up:

    out = image + upsample(model(down_s(image)) - down_s(image))

which keeps every detail of the full-resolution input above the level's Nyquist frequency
(nothing the input had is lost) and restores what lies below it. `choose_level` picks s by
self-consistency: a level is good when its restored result, viewed one level coarser, is as
sharp as what the model makes of that coarser level directly; when the blur is too long for
a level, its result stays blurred and the coarser level is visibly sharper.

Torch-free (numpy + Pillow); images are (C, H, W) float32 in [0, 1]. The model must keep the
size (scale 1).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from gan_app.errors import UserError
from gan_app.runtime.images import to_unit
from gan_app.runtime.session import OnnxModel
from gan_app.runtime.tiling import infer_image

LEVELS = (1, 2, 4)          # downscaling factors `auto` chooses from
MIN_LEVEL_SIDE = 48         # a level whose short side would fall below this is not tried
PROBE_SIDE = 768            # `auto` judges on a centre window of at most this side (camera shake is global)
SHARPNESS_TOLERANCE = 0.95  # a level passes when it keeps >= this fraction of the coarser level's sharpness


def parse_level(value: str) -> int | str:
    """`--blur-scale` text -> 'auto' or one of LEVELS; a UserError naming the choices otherwise."""
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    if text in {str(s) for s in LEVELS}:
        return int(text)
    raise UserError(f"--blur-scale must be auto or one of {', '.join(map(str, LEVELS))}, got {value!r}")


def resize(image: np.ndarray, height: int, width: int, resample: int) -> np.ndarray:
    """(C, H, W) float32 -> (C, height, width) with Pillow, channel by channel in float ('F') mode."""
    return np.stack([np.asarray(Image.fromarray(ch).resize((width, height), resample), dtype=np.float32)
                     for ch in image.astype(np.float32, copy=False)])


def downscale(image: np.ndarray, level: int) -> np.ndarray:
    """Area-average (Pillow BOX) by `level`: (C, H, W) -> (C, ceil(H/level), ceil(W/level))."""
    _, h, w = image.shape
    return resize(image, -(-h // level), -(-w // level), Image.BOX)


def infer_at_level(model: OnnxModel, image: np.ndarray, level: int, *, tile: int | None = None) -> np.ndarray:
    """The model's restoration of `image` (C, H, W) run at 1/`level` resolution, brought back to (C, H, W)."""
    if level == 1:
        return infer_image(model, image, tile=tile)
    _, h, w = image.shape
    small = downscale(image, level)                                             # (C, h/s, w/s)
    correction = infer_image(model, small, tile=tile) - small
    return image + resize(correction, h, w, Image.BICUBIC)


def sharpness(image: np.ndarray) -> float:
    """Mean absolute horizontal + vertical difference of the channel mean: (C, H, W) -> float."""
    grey = image.mean(axis=0)
    return float(np.abs(np.diff(grey, axis=0)).mean() + np.abs(np.diff(grey, axis=1)).mean())


def choose_level(model: OnnxModel, image: np.ndarray, *, tolerance: float = SHARPNESS_TOLERANCE) -> int:
    """The finest level of LEVELS whose result, seen one level coarser, is as sharp as that level's own result.

    Judged on a centre window of at most PROBE_SIDE px (C, H, W), so the cost is bounded
    whatever the photo's size. Levels whose short side would drop under MIN_LEVEL_SIDE are
    not tried; a tiny image gets level 1.
    """
    _, h, w = image.shape
    top, left = max(0, (h - PROBE_SIDE) // 2), max(0, (w - PROBE_SIDE) // 2)
    probe = image[:, top:top + PROBE_SIDE, left:left + PROBE_SIDE].astype(np.float32)
    levels = [s for s in LEVELS if s == 1 or min(probe.shape[1:]) // s >= MIN_LEVEL_SIDE]
    restored = {s: infer_image(model, downscale(probe, s), tile=0) for s in levels}   # each at its own size
    for finer, coarser in zip(levels, levels[1:]):
        seen_coarser = downscale(restored[finer], coarser // finer)
        if sharpness(seen_coarser) >= tolerance * sharpness(restored[coarser]):
            return finer
    return levels[-1]


def restore_scale_aware(model: OnnxModel, image: np.ndarray, level: int | str, *, tile: int | None = None) -> np.ndarray:
    """`image` (C, H, W) restored at `level` (1, 2, 4 or 'auto'); float32 (C, H, W), unclipped."""
    if model.spec.scale != 1:
        raise UserError(f"model {model.path.name} changes the image size (scale {model.spec.scale}); "
                        "--blur-scale works only with same-size models")
    image = to_unit(image)                                                      # (C, H, W) float32 in [0, 1]
    if level == "auto":
        level = choose_level(model, image)
    return infer_at_level(model, image, int(level), tile=tile)
