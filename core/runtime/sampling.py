"""Torch-free helpers of the sampling verbs (`gan-app generate`, `gan-app text2img`).

Sample counts with a cap, the output checks and the seed both verbs take, latent draws from
numpy's seeded generator (so `--seed` reproduces a picture on any machine), optionally
truncated, great-circle walks between latents or embeddings, and the picture grid, written
atomically.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from gan_app.errors import UserError

MAX_SAMPLES = 1024   # per run: a bigger grid is unreadable and slow on a CPU
MIN_TRUNCATION = 0.1  # below this nearly every draw is rejected and the samples barely vary


def check_count(n: int, what: str = "-n") -> int:
    """`n` if 1 <= n <= MAX_SAMPLES; capped (with a note on stderr) when larger; UserError when < 1."""
    if n < 1:
        raise UserError(f"{what} must be at least 1, got {n}")
    if n > MAX_SAMPLES:
        print(f"note: {what} {n} capped to {MAX_SAMPLES} images", file=sys.stderr)
        return MAX_SAMPLES
    return n


def check_grid_output(output: Path, zoom: int, overwrite: bool) -> None:
    """Refuse a bad `--zoom`, an output name of no image format, a folder of that name (no file can
    replace it, `--overwrite` or not) or an existing output (without `--overwrite`) before any work is done."""
    from gan_app.runtime.images import image_format

    if zoom < 1 or zoom > 16:
        raise UserError(f"--zoom must be in 1..16, got {zoom}")
    image_format(output)
    if output.is_dir():
        raise UserError(f"-o {output} is an existing folder; name the picture to write, e.g. -o {output / 'grid.png'}")
    if output.exists() and not overwrite:
        raise UserError(f"{output} exists; pass --overwrite or another -o")


def resolve_seed(seed: int | None) -> int:
    """`seed`, or a fresh random one, printed on stderr so the picture can be made again."""
    if seed is None:
        seed = int(np.random.default_rng().integers(2**31))
        print(f"seed {seed}", file=sys.stderr)
    if seed < 0:   # numpy's generators take none
        raise UserError(f"--seed must be a whole number >= 0, got {seed}")
    return seed


def slerp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """(steps, Z) points on the great circle from a (Z,) to b (Z,): the usual walk for Gaussian z."""
    t = np.linspace(0.0, 1.0, steps)[:, None]  # (steps, 1)
    cos = np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:  # (anti)parallel: a straight line is the same walk
        return (1 - t) * a + t * b
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def check_truncation(truncation: float) -> float:
    """`truncation` if it is 0 (off) or at least MIN_TRUNCATION; UserError otherwise."""
    if truncation != 0 and not truncation >= MIN_TRUNCATION:
        raise UserError(f"--truncation must be 0 (off) or >= {MIN_TRUNCATION}, got {truncation}")
    return truncation


def normal_latents(rng: np.random.Generator, shape: tuple[int, ...], truncation: float = 0.0) -> np.ndarray:
    """float32 N(0, I) draws of `shape`; `truncation` t > 0 redraws every entry with |z| > t.

    BigGAN's truncation trick (Brock et al. 2019): G maps the rarely drawn tails of z worst, so
    keeping z near the mode trades variety for fidelity. 0 turns it off.
    """
    check_truncation(truncation)
    z = rng.standard_normal(shape)
    if truncation > 0:
        outside = np.abs(z) > truncation
        while outside.any():
            z[outside] = rng.standard_normal(int(outside.sum()))
            outside = np.abs(z) > truncation
    return z.astype(np.float32)


def latents(n: int, z_dim: int, seed: int, interpolate: bool, truncation: float = 0.0) -> np.ndarray:
    """(n, z_dim) float32: independent draws, or a walk between the draws of seeds `seed` and `seed + 1`."""
    if interpolate:
        a, b = (normal_latents(np.random.default_rng(s), (z_dim,), truncation) for s in (seed, seed + 1))
        return slerp(a.astype(np.float64), b.astype(np.float64), n).astype(np.float32)
    return normal_latents(np.random.default_rng(seed), (n, z_dim), truncation)


def to_uint8_images(images: np.ndarray, value_range: tuple[float, float]) -> np.ndarray:
    """Generator output (N, C, H, W) in `value_range` -> uint8 (N, H, W, C), what the Python API returns."""
    lo, hi = value_range
    unit = np.clip((images - lo) / (hi - lo), 0.0, 1.0)
    return np.round(unit.transpose(0, 2, 3, 1) * 255).astype(np.uint8)


def grid(images: np.ndarray, columns: int, zoom: int = 1, pad: int = 2) -> np.ndarray:
    """uint8 images (N, H, W, C) -> one uint8 picture (H', W', C), row-major, black gaps.

    Zoomed per cell into the uint8 canvas, so a 1,024-image grid at zoom 16 holds no float copy.
    """
    n, h, w, c = images.shape
    rows = -(-n // columns)
    cell_h, cell_w = h * zoom, w * zoom
    out = np.zeros((rows * (cell_h + pad) + pad, columns * (cell_w + pad) + pad, c), dtype=np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        top, left = pad + r * (cell_h + pad), pad + col * (cell_w + pad)
        out[top: top + cell_h, left: left + cell_w] = image.repeat(zoom, axis=0).repeat(zoom, axis=1)
    return out


def save_grid(images: np.ndarray, columns: int, zoom: int, output: Path, overwrite: bool) -> None:
    """`grid(images, ...)` of uint8 (N, H, W, C) written atomically to `output` in the format its name says
    (grey when C is 1). A full disk or read-only folder is a one-line UserError, and leaves no new folder."""
    from PIL import Image

    from gan_app.runtime.files import atomic_output, output_folders
    from gan_app.runtime.images import image_format

    fmt = image_format(output)
    picture = grid(images, columns, zoom)  # (H, W, C)
    with output_folders([output.parent]), atomic_output(output, overwrite=overwrite) as tmp:
        Image.fromarray(picture[..., 0] if picture.shape[2] == 1 else picture).save(tmp, format=fmt)
