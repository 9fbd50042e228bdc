"""`--blur-scale auto`: how far a photo's blur reaches, and the pyramid level that brings it into range.

The estimator is a small ONNX network shipped beside the deblur models (`blur-extent.estimator.onnx`,
trained by `gan_app.apps.deblur.blur_extent`): from one 128 x 128 RGB crop it regresses the RMS
radius of the blur's PSF. A photo's estimate is the median over its most textured crops (flat sky
says nothing about blur; the median ignores a few crops fooled by texture or defocus), so it costs
a few milliseconds whatever the photo's size; long blur is re-read on the photo shrunk 2x or 4x, where
it is in the estimator's accurate range. The level is then the finest one at which the blur,
shrunk by the level, is within the model's reach: the RMS radius it restores at full size, which each
shipped model's card states (`blur_reach_px`, calibrated on training photos: docs/benchmarks.md).

Torch-free (numpy + ONNX Runtime); images are (C, H, W), uint8/uint16 (full range) or float in [0, 1].
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import onnxruntime as ort

from gan_app.errors import UserError
from gan_app.paths import shipped_blur_estimator
from gan_app.runtime.images import to_unit
from gan_app.runtime.pyramid import LEVELS, downscale
from gan_app.runtime.session import OnnxModel

CROPS = 8         # the most textured crops an estimate takes the median of
TRUSTED = 6.0     # readings above this (px) are re-read at the next coarser scale (the estimator saturates ~8)
FLAT = 0.05       # below this median luma std the crops hold no edges to read blur from: radius 0 (keep level 1)
REACH = 6.0       # RMS blur radius (px) a model restores at full size, unless its card says (`blur_reach_px`)


@lru_cache(maxsize=4)
def load_estimator(path: str | None = None, threads: int = 1) -> tuple[ort.InferenceSession, int, float]:
    """(session, crop size, output offset) of the estimator at `path` (default: the shipped one)."""
    file = Path(path) if path else shipped_blur_estimator()
    if not file.is_file():
        raise UserError(f"the blur-extent estimator {file} is missing, so --blur-scale auto cannot run; "
                        "reinstall gan-app or pass --blur-scale 1, 2 or 4")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    try:
        session = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own exception types for unreadable graphs
        raise UserError(f"{file} is not a readable ONNX model ({type(exc).__name__}); reinstall gan-app") from None
    meta = session.get_modelmeta().custom_metadata_map
    if meta.get("gan_app_kind") != "blur_extent":
        raise UserError(f"{file} is not a gan_app blur-extent estimator (its metadata says {meta.get('gan_app_kind')!r})")
    return session, int(meta["crop"]), float(meta["offset"])


def textured_crops(image: np.ndarray, crop: int, count: int = CROPS) -> np.ndarray:
    """The `count` crops of `image` (C, H, W) with the most luma contrast, from a grid of non-overlapping
    `crop` x `crop` windows: (N, 3, crop, crop) float32 in [0, 1] (grey images repeated to RGB).
    An image smaller than `crop` is reflect-padded to it."""
    return _ranked_crops(image, crop, count)[0]


def _ranked_crops(image: np.ndarray, crop: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`textured_crops` and their contrasts (N,), highest first. Each window is converted to float on its
    own, so a big photo costs its crops, not a float copy of the whole image."""
    _, h, w = image.shape
    if h < crop or w < crop:
        image = np.pad(image, ((0, 0), (0, max(0, crop - h)), (0, max(0, crop - w))), mode="reflect")
        _, h, w = image.shape
    ys = np.linspace(0, h - crop, max(1, h // crop)).astype(int)
    xs = np.linspace(0, w - crop, max(1, w // crop)).astype(int)
    windows = [_rgb_unit(image[:, y:y + crop, x:x + crop]) for y in ys for x in xs]
    contrast = np.array([float(np.std(win.mean(0))) for win in windows])
    best = np.argsort(contrast)[::-1][:count]
    return np.stack([windows[i] for i in best]).astype(np.float32), contrast[best]


def _rgb_unit(window: np.ndarray) -> np.ndarray:
    """(C, h, w) of any dtype -> (3, h, w) float in [0, 1]: the first three channels, grey repeated."""
    return to_unit(window[:3] if window.shape[0] >= 3 else np.repeat(window[:1], 3, axis=0))


def estimate_radius(image: np.ndarray, estimator: str | None = None) -> float:
    """RMS radius (px, at the image's own resolution) of the blur in `image` (C, H, W).

    The estimator is accurate for radii of a few px and saturates near 8 px (docs/benchmarks.md), so the
    estimate climbs the pyramid: at scale s (the image area-averaged by s, where the blur is s times
    shorter) it reads the median over the most textured crops, and the first scale that reads at most
    TRUSTED px gives s times its reading. Scales stop where the image gets smaller than one crop.
    A photo without edges (its most textured crops' median luma std below FLAT: a smooth retina scan read
    23-33 px and lost 5-8 dB at level 4 on the calibration pairs) reads 0: nothing to gain from a coarser level.
    """
    session, crop, offset = load_estimator(estimator)
    crops, contrast = _ranked_crops(image, crop, CROPS)
    if np.median(contrast) < FLAT:
        return 0.0
    scale, reading = 1, _median_reading(session, crops, offset)
    while reading > TRUSTED and min(image.shape[1:]) // (2 * scale) >= crop:
        scale *= 2
        reading = _median_reading(session, textured_crops(downscale(image, scale), crop), offset)
    return scale * reading


def _median_reading(session: ort.InferenceSession, crops: np.ndarray, offset: float) -> float:
    """The estimator's median radius (px) over `crops` (N, 3, crop, crop)."""
    log_radius = session.run(None, {"image": crops})[0]                          # (N,)
    return max(0.0, float(np.exp(np.median(log_radius)) - offset))


def level_for(radius: float, reach: float = REACH) -> int:
    """The finest of LEVELS at which `radius` / level <= `reach`; the coarsest when none is."""
    return next((level for level in LEVELS if radius / level <= reach), LEVELS[-1])


def model_reach(model: OnnxModel) -> float:
    """The RMS radius (px) `model` restores at full size: its card's `blur_reach_px`, else REACH."""
    return float((model.card or {}).get("blur_reach_px", REACH))


def auto_level(image: np.ndarray, reach: float = REACH, estimator: str | None = None) -> int:
    """The pyramid level `--blur-scale auto` runs `image` (C, H, W) at, for a model that restores blur up to
    `reach` px RMS radius (a model card's `blur_reach_px`)."""
    return level_for(estimate_radius(image, estimator), reach)
