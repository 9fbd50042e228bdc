"""Scale-aware inference: run a restoration model at the pyramid level where the degradation is in its range.

A deblurring model learns blur up to some length L in pixels. A shaken 24 MP photo may hold
blur several times longer; halving the image halves the blur. So the model runs on the image
downscaled by s (area average), and only its *correction* comes back up:

    out = image + upsample(model(down_s(image)) - down_s(image))

which keeps every detail of the full-resolution input above the level's Nyquist frequency
(nothing the input had is lost) and restores what lies below it. The level is the user's
choice: two automatic estimates (self-consistency across levels, and the blur extent from the
autocorrelation of directional derivatives) were measured and failed on realistic shake with
noise and JPEG (docs/benchmarks.md, session 8), so none is offered as `auto`.

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

LEVELS = (1, 2, 4)          # downscaling factors offered by --blur-scale


def parse_level(value: str) -> int:
    """`--blur-scale` text -> one of LEVELS; a UserError naming the choices otherwise."""
    text = str(value).strip()
    if text not in {str(s) for s in LEVELS}:
        _bad_level(value)
    return int(text)


def _bad_level(value) -> None:
    raise UserError(f"--blur-scale must be one of {', '.join(map(str, LEVELS))}, got {value!r}")


def resize(image: np.ndarray, height: int, width: int, resample: int) -> np.ndarray:
    """(C, H, W) float32 -> (C, height, width) with Pillow, channel by channel in float ('F') mode."""
    return np.stack([np.asarray(Image.fromarray(ch).resize((width, height), resample), dtype=np.float32)
                     for ch in image.astype(np.float32, copy=False)])


def downscale(image: np.ndarray, level: int) -> np.ndarray:
    """Area-average (Pillow BOX) by `level`: (C, H, W) -> (C, ceil(H/level), ceil(W/level))."""
    _, h, w = image.shape
    return resize(image, -(-h // level), -(-w // level), Image.BOX)


def infer_at_level(model: OnnxModel, image: np.ndarray, level: int, *, tile: int | None = None) -> np.ndarray:
    """The model's restoration of `image` (C, H, W) float32 in [0, 1] run at 1/`level` resolution, back at (C, H, W)."""
    if level == 1:
        return infer_image(model, image, tile=tile)
    _, h, w = image.shape
    small = downscale(image, level)                                             # (C, h/s, w/s)
    correction = infer_image(model, small, tile=tile) - small
    return image + resize(correction, h, w, Image.BICUBIC)


def restore_scale_aware(model: OnnxModel, image: np.ndarray, level: int, *, tile: int | None = None) -> np.ndarray:
    """`image` (C, H, W) of any dtype restored at `level` (one of LEVELS); float32 (C, H, W) in [0, 1], unclipped."""
    if model.spec.scale != 1:
        raise UserError(f"model {model.path.name} changes the image size (scale {model.spec.scale}); "
                        "--blur-scale works only with same-size models")
    if level not in LEVELS:
        _bad_level(level)
    return infer_at_level(model, to_unit(image), level, tile=tile)
