"""Scale-aware inference: run a restoration model at the pyramid level where the degradation is in its range.

A deblurring model learns blur up to some length L in pixels. A shaken 24 MP photo may hold
blur several times longer; halving the image halves the blur. So the model runs on the image
downscaled by s (area average), and only its *correction* comes back up:

    out = image + upsample(model(down_s(image)) - down_s(image))

which keeps every detail of the full-resolution input above the level's Nyquist frequency
(nothing the input had is lost) and restores what lies below it. The level is the user's
choice, or `auto`: a learned estimate of the blur's extent picks it (`blur_extent.py`; two
hand-made estimates failed on realistic shake with noise and JPEG, docs/benchmarks.md, session 8).

Torch-free (numpy + Pillow); images are (C, H, W), uint8/uint16 (full range) or float in
[0, 1]. The model must keep the size (scale 1). Memory stays bounded as in `tiling`: the
downscale and the upsample + add run in bands of rows (Pillow's resize `box`, from only the
input rows a band needs), so the only full-size buffer is the output, which with an integer
`dtype` is quantized band by band; the float work at full size is one band, and the
low-resolution image and its correction are 1/level^2 of the pixels. (A height not divisible
by the level is downscaled one whole float channel plane at a time instead: see `resize`.)
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from gan_app.errors import UserError
from gan_app.runtime.images import to_unit
from gan_app.runtime.session import OnnxModel
from gan_app.runtime.tiling import assemble, infer_image

LEVELS = (1, 2, 4)          # downscaling factors offered by --blur-scale
BAND_PIXELS = 1 << 21       # output pixels resized per band of rows
_SUPPORT = {Image.BOX: 0.5, Image.BICUBIC: 2.0}   # Pillow's filter reach, in input pixels at scale 1


AUTO = "auto"               # --blur-scale auto: the level comes from the blur's estimated extent (blur_extent.py)


def parse_level(value: str) -> int | str:
    """`--blur-scale` text -> one of LEVELS or AUTO; a UserError naming the choices otherwise."""
    text = str(value).strip().lower()
    if text == AUTO:
        return AUTO
    if text not in {str(s) for s in LEVELS}:
        _bad_level(value)
    return int(text)


def _bad_level(value) -> None:
    raise UserError(f"--blur-scale must be {AUTO} or one of {', '.join(map(str, LEVELS))}, got {value!r}")


def resize(image: np.ndarray, height: int, width: int, resample: int) -> np.ndarray:
    """(C, H, W) of any dtype -> float32 (C, height, width) in [0, 1] with Pillow (`resample`: BOX or BICUBIC),
    channel by channel in float ('F') mode, in bands of rows (`resized_rows`).

    BOX weights jump where an output row's edge meets an input pixel's centre (3 rows of 203 -> 102 do),
    and a band's box, rounded to float32, may land on the other side: BOX runs in bands only where the
    vertical scale is a power of two (exact box), else on whole channel planes.
    """
    exact = math.log2(image.shape[1] / height).is_integer() or resample != Image.BOX
    bands = _row_bands(height, width) if exact else [(0, height)]
    return assemble(((top, resized_rows(image, height, width, resample, top, bottom)) for top, bottom in bands),
                    height, width)


def resized_rows(image: np.ndarray, height: int, width: int, resample: int, top: int, bottom: int) -> np.ndarray:
    """Rows `top`:`bottom` of `resize(image, height, width, resample)`, float32 (C, bottom - top, width),
    converted to float from only the input rows they need.

    Two passes, as Pillow does a whole image: the crop's rows resized across, then its `box` down, with
    the whole image's filter geometry. The same pixels as one whole resize when the vertical scale is a
    power of two (every pyramid level of a height divisible by it), else within float32 rounding (~1e-6).
    """
    _, h, _ = image.shape
    step = h / height                                                       # input rows per output row
    reach = _SUPPORT[resample] * max(step, 1.0) + 1                         # and one spare
    first, last = max(0, math.floor(top * step - reach)), min(h, math.ceil(bottom * step + reach))
    box = (0, top * step - first, width, bottom * step - first)
    return np.stack([np.asarray(Image.fromarray(to_unit(ch)).resize((width, last - first), resample)
                                .resize((width, bottom - top), resample, box=box), dtype=np.float32)
                     for ch in image[:, first:last]])


def _row_bands(height: int, width: int) -> list[tuple[int, int]]:
    """(top, bottom) of bands of about `BAND_PIXELS` covering `height` rows of `width` pixels."""
    rows = max(1, BAND_PIXELS // width)
    return [(top, min(top + rows, height)) for top in range(0, height, rows)]


def downscale(image: np.ndarray, level: int) -> np.ndarray:
    """Area-average (Pillow BOX) by `level`: (C, H, W) -> (C, ceil(H/level), ceil(W/level))."""
    _, h, w = image.shape
    return resize(image, -(-h // level), -(-w // level), Image.BOX)


def infer_at_level(model: OnnxModel, image: np.ndarray, level: int, *, tile: int | None = None,
                   dtype: type | None = None, channels: int | None = None) -> np.ndarray:
    """The model's restoration of `image` (C, H, W) of any dtype run at 1/`level` resolution, back at (C, H, W):
    float32 in [0, 1] (unclipped), or with `dtype` its rounded integers (`dtype`, `channels`: see `tiling.assemble`)."""
    if level == 1:
        return infer_image(model, image, tile=tile, dtype=dtype, channels=channels)
    _, h, w = image.shape
    small = downscale(image, level)                                             # (C, h/s, w/s)
    correction = infer_image(model, small, tile=tile) - small
    bands = ((top, to_unit(image[:, top:bottom]) + resized_rows(correction, h, w, Image.BICUBIC, top, bottom))
             for top, bottom in _row_bands(h, w))                               # (C, rows, W) each
    return assemble(bands, h, w, dtype=dtype, channels=channels)


def restore_scale_aware(model: OnnxModel, image: np.ndarray, level: int, *, tile: int | None = None,
                        dtype: type | None = None, channels: int | None = None) -> np.ndarray:
    """`image` (C, H, W) of any dtype restored at `level` (one of LEVELS): see `infer_at_level`."""
    require_same_size(model)
    if level not in LEVELS:
        _bad_level(level)
    return infer_at_level(model, image, level, tile=tile, dtype=dtype, channels=channels)


def require_same_size(model: OnnxModel) -> None:
    """A UserError unless `model` keeps the image size: pyramid levels are for same-size models only."""
    if model.spec.scale != 1:
        raise UserError(f"model {model.path.name} changes the image size (scale {model.spec.scale}); "
                        "--blur-scale works only with same-size models")
