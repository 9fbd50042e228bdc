"""Whole-image inference with padding to the model's size multiple and seamless tiling.

A generator may need H and W divisible by its size multiple (a U-Net with k
down-samplings needs 2**k): the image is reflect-padded once and the output cropped back.
Large images are processed tile by tile so memory for activations is bounded by the
tile, not the image. Tiles overlap and are blended with a raised-cosine (sin^2) ramp
over the overlap: each tile's border pixels, which saw reflected instead of real
context, get almost no weight, and the ramps of two neighbours sum to one, so no seam
shows.

Memory is bounded by the tile for the float work too: tile rows start at increasing y, so
once a row of tiles is blended, the output rows above the next row's start are final.
They are normalised and handed to `assemble`, which copies them into the output (float32,
or clipped and rounded straight into uint8/uint16), and the blend accumulator and its
weights, one band of tile * scale rows, move down. Asked for integers, the only
image-sized buffer is the integer output itself (3 bytes per RGB pixel, not 16).
"""

from __future__ import annotations

import math
from typing import Iterable, Iterator

import numpy as np

from gan_app.errors import UserError
from gan_app.runtime.images import quantize, to_channels, to_unit
from gan_app.runtime.session import OnnxModel

RUN_OUTPUT_PIXELS = 1 << 21   # ~2.1 MP of output per model run; larger images are tiled automatically
DEFAULT_OVERLAP = 32          # input pixels shared by neighbouring tiles (rounded up to the size multiple)


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """(C, H, W) -> (C, H', W') with H', W' the next multiples of `multiple`, reflect-padded.

    numpy's reflect mode reflects repeatedly when the pad exceeds the image and repeats
    the pixel for a 1-pixel axis, so tiny images are handled without a special case.
    """
    _, height, width = image.shape
    pad_h, pad_w = round_up(height, multiple) - height, round_up(width, multiple) - width
    if pad_h == 0 and pad_w == 0:
        return image
    return np.pad(image, ((0, 0), (0, pad_h), (0, pad_w)), mode="reflect")


def choose_tile(height: int, width: int, scale: int, multiple: int, budget: int | None = None) -> int | None:
    """Tile side for an image of `height` x `width`, or None when one run fits `budget` output pixels.

    `budget` defaults to `RUN_OUTPUT_PIXELS` (read at call time).
    """
    budget = RUN_OUTPUT_PIXELS if budget is None else budget
    if height * width * scale * scale <= budget:
        return None
    side = int(math.isqrt(budget)) // scale
    return max(multiple, side // multiple * multiple)


def tile_starts(length: int, tile: int, overlap: int, multiple: int) -> list[int]:
    """Start offsets of tiles covering [0, length), spread evenly, each overlap >= `overlap`.

    `length`, `tile` and `overlap` are multiples of `multiple`; starts are too, so every
    tile samples the image on the same grid phase as an untiled run.
    """
    if tile >= length:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    last = length - tile
    return [round(k * last / (count - 1) / multiple) * multiple for k in range(count)]


def _ramp(length: int) -> np.ndarray:
    """sin^2 ramp of `length` samples, rising from ~0 to ~1; ramp + ramp[::-1] == 1."""
    return np.sin(0.5 * np.pi * (np.arange(length, dtype=np.float32) + 0.5) / length) ** 2


def _window(starts: list[int], index: int, tile: int, scale: int) -> np.ndarray:
    """1-D blending weights (tile * scale,) of tile `index`: ramps only where a neighbour overlaps."""
    weights = np.ones(tile * scale, dtype=np.float32)
    if index > 0:
        shared = (starts[index - 1] + tile - starts[index]) * scale
        if shared > 0:
            weights[:shared] *= _ramp(shared)
    if index < len(starts) - 1:
        shared = (starts[index] + tile - starts[index + 1]) * scale
        if shared > 0:
            weights[-shared:] *= _ramp(shared)[::-1]
    return weights


def infer_image(
    model: OnnxModel,
    image: np.ndarray,
    *,
    tile: int | None = None,
    overlap: int = DEFAULT_OVERLAP,
    extra_feeds: dict[str, np.ndarray] | None = None,
    dtype: type | None = None,
    channels: int | None = None,
) -> np.ndarray:
    """Run an image-to-image model on `image` (C, H, W), any dtype (uint8/uint16 full range or float in [0, 1]).

    Returns float32 (C_out, H * scale, W * scale) in [0, 1] (unclipped), or with `dtype`
    np.uint8/np.uint16 exactly `round(clip(that, 0, 1) * full)`, made tile row by tile row
    (see `assemble`; `channels` converts the output's channels first). `tile`: None picks
    automatically (untiled when the image fits `RUN_OUTPUT_PIXELS`), 0 never tiles, N uses
    N x N tiles (rounded up to the size multiple). `overlap` 0 gives plain non-overlapping tiles.
    `extra_feeds` holds any non-image inputs with batch 1 (e.g. a class label).
    """
    if image.ndim != 3:
        raise ValueError(f"image must be (C, H, W), got {image.shape}")
    spec = model.spec
    name = model.image_input()
    if name is None:
        raise UserError(f"model {model.path.name} (head {model.head}) takes no single image input")
    multiple, scale = max(1, spec.size_multiple), max(1, spec.scale)
    _, height, width = image.shape
    padded = pad_to_multiple(image, multiple)
    if tile is None:
        tile = choose_tile(height, width, scale, multiple)
    elif tile < 0:
        raise UserError(f"--tile must be >= 0, got {tile}")
    if not tile:
        bands: Iterable[tuple[int, np.ndarray]] = [(0, _run(model, name, padded, scale, extra_feeds))]
    else:
        tile = round_up(tile, multiple)
        overlap = min(round_up(overlap, multiple), tile // 2 // multiple * multiple)
        bands = _tiled_bands(model, name, padded, tile, overlap, extra_feeds)
    return assemble(bands, height * scale, width * scale, dtype=dtype, channels=channels)


def assemble(
    bands: Iterable[tuple[int, np.ndarray]],
    height: int,
    width: int,
    *,
    dtype: type | None = None,
    channels: int | None = None,
) -> np.ndarray:
    """The (C, `height`, `width`) image of row bands (first row, float32 (C, rows, >= width)) given top to bottom.

    Rows and columns past `height` x `width` (padding) are dropped. `channels`: each band is first
    converted to that many channels (`images.to_channels`: grey replicated, RGB to luma). `dtype`
    None: float32 as given, and a single band covering the image is returned as it is; np.uint8 or
    np.uint16: each band is clipped to [0, 1], rounded to the full range and copied into the
    preallocated integer image, so no float buffer larger than a band is ever held. An assembled
    image is a view of a (height, width, C) array: its `.transpose(1, 2, 0)` is contiguous.
    """
    out: np.ndarray | None = None                                           # (height, width, C)
    for top, band in bands:
        pixels = band.transpose(1, 2, 0)[: height - top, :width]            # (rows, width, C)
        if channels is not None and pixels.shape[-1] != channels:
            pixels = to_channels(pixels, channels)
        if out is None and dtype is None and top == 0 and pixels.shape[0] == height:
            return pixels.transpose(2, 0, 1)
        if out is None:
            out = np.empty((height, width, pixels.shape[-1]), dtype or np.float32)
        out[top : top + pixels.shape[0]] = pixels if dtype is None else quantize(pixels, dtype)
    return out.transpose(2, 0, 1)


def _run(model: OnnxModel, name: str, tile: np.ndarray, scale: int, extra_feeds: dict | None) -> np.ndarray:
    """One model run on `tile` (C, h, w) -> float32 (C_out, h * scale, w * scale) in [0, 1]."""
    low, high = model.spec.value_range
    feeds = dict(extra_feeds or {})
    feeds[name] = (to_unit(tile) * np.float32(high - low) + np.float32(low))[None]
    out = model.run(feeds)[0]
    expected = (tile.shape[1] * scale, tile.shape[2] * scale)
    if out.ndim != 3 or out.shape[1:] != expected:
        raise UserError(
            f"model {model.path.name} returned {out.shape} for a {tile.shape} input; its metadata says scale {scale}: re-export it"
        )
    out = out.astype(np.float32, copy=False)                        # in place: no second copy of a tile
    out -= np.float32(low)
    out /= np.float32(high - low)
    return out


def _tiled_bands(
    model: OnnxModel, name: str, image: np.ndarray, tile: int, overlap: int, extra_feeds: dict | None
) -> Iterator[tuple[int, np.ndarray]]:
    """Overlapping tiles blended with `_window` weights, as finished output row bands for `assemble`.

    `image` (C, H, W) is already padded to the multiple. Yields (first output row, float32
    (C_out, rows, W * scale)), each a view valid until the next is asked for; the sums and weights
    of one row of tiles are all that is kept.
    """
    scale, multiple = max(1, model.spec.scale), max(1, model.spec.size_multiple)
    _, height, width = image.shape
    ys = tile_starts(height, tile, overlap, multiple)
    xs = tile_starts(width, tile, overlap, multiple)
    rows = min(tile, height) * scale                                  # every tile's output height
    acc: np.ndarray | None = None
    weight = np.zeros((rows, width * scale), dtype=np.float32)       # (t*s, W*s)
    for iy, y in enumerate(ys):
        for ix, x in enumerate(xs):
            part = _run(model, name, image[:, y : y + tile, x : x + tile], scale, extra_feeds)  # (C, t*s, t*s)
            if acc is None:
                acc = np.zeros((part.shape[0], rows, width * scale), dtype=np.float32)   # (C, t*s, W*s)
            tw = part.shape[2] // scale
            w = np.outer(_window(ys, iy, rows // scale, scale), _window(xs, ix, tw, scale))
            cols = slice(x * scale, (x + tw) * scale)
            part *= w
            acc[:, :, cols] += part
            weight[:, cols] += w
        done = (ys[iy + 1] - y) * scale if iy + 1 < len(ys) else rows  # rows no later tile reaches
        acc[:, :done] /= weight[:done]
        yield y * scale, acc[:, :done]                                # a view: used before the band moves on
        for array in (acc, weight):                                   # move the band down by `done` rows
            array[..., : rows - done, :] = array[..., done:, :]
            array[..., rows - done :, :] = 0
