"""In-memory images (numpy arrays, Pillow images) to `Picture` and back, for the Python API.

The CLI reads files into a `Picture` (images.py); a program hands over an array or a Pillow
image instead. Both meet at `Picture`, so padding, tiling, alpha and 16-bit handling are the
same code. What comes back has the kind of what went in:

- numpy (H, W) grey, (H, W, 1|2|3|4) grey / grey+alpha / RGB / RGBA, dtype uint8, uint16
  (full range) or float16/32/64 (in [0, 1]) -> an array of the same dtype and channel layout
  (H * scale, W * scale[, C]); a colour model fed grey returns colour (C 3, or 4 with alpha).
- a Pillow image -> a Pillow image in the same mode (`images.to_pillow`; EXIF orientation is
  not applied: the pixels are taken as given).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PIL import Image

from gan_app.errors import UserError
from gan_app.runtime.images import (Picture, check_min_side, decode_pillow, output_channels, quantize, resize_alpha,
                                    to_channels, to_unit)

ARRAY_DTYPES = (np.uint8, np.uint16, np.float16, np.float32, np.float64)
_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


@dataclasses.dataclass(frozen=True)
class ArrayLayout:
    """How the caller's array was laid out, so the result is returned the same way."""

    dtype: np.dtype
    squeezed: bool          # a 2-D (H, W) grey array


def picture_from_array(array: np.ndarray) -> tuple[Picture, ArrayLayout]:
    """A `Picture` (pixels and alpha in the array's own dtype) and the layout to return."""
    if not isinstance(array, np.ndarray):
        raise UserError(f"expected a numpy array or a PIL image, got {type(array).__name__}")
    if array.dtype not in [np.dtype(d) for d in ARRAY_DTYPES]:
        raise UserError(f"image arrays must be uint8, uint16 or float in [0, 1], got dtype {array.dtype}")
    squeezed = array.ndim == 2
    if squeezed:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in _MODES:
        raise UserError(f"image arrays must be (H, W) or (H, W, C) with C in 1..4, got shape {array.shape}")
    check_min_side("the image", array.shape[1], array.shape[0])
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise UserError("the image array holds NaN or Inf values; pass finite values in [0, 1]")
    channels = array.shape[-1]
    has_alpha = channels in (2, 4)
    pixels = np.ascontiguousarray(array[..., :-1] if has_alpha else array)
    alpha = np.ascontiguousarray(array[..., -1]) if has_alpha else None
    return Picture(pixels, alpha, _MODES[channels]), ArrayLayout(array.dtype, squeezed)


def array_from_result(result: np.ndarray, like: Picture, layout: ArrayLayout) -> np.ndarray:
    """Model output `result` (H', W', C'), float in [0, 1] or full-range integers, in `like`'s channels and the
    caller's dtype, alpha appended, clipped (integers already of the caller's dtype are kept as they are)."""
    want = output_channels(like)
    out = to_channels(result, want) if result.shape[-1] != want else result
    if layout.dtype.kind == "f":
        out = np.clip(to_unit(out), 0.0, 1.0).astype(layout.dtype)
    else:
        out = quantize(out, layout.dtype.type)
    if like.alpha is not None:
        out = np.concatenate([out, resize_alpha(like.alpha, out.shape[:2])[..., None].astype(layout.dtype)], axis=-1)
    return out[..., 0] if layout.squeezed and out.shape[-1] == 1 else out


def picture_from_pil(image: Image.Image) -> Picture:
    """A `Picture` from a Pillow image, the same way a file is decoded."""
    check_min_side("the PIL image", image.width, image.height)
    return decode_pillow(image, "the PIL image")
