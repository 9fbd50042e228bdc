"""Realistic camera shake: blur formed in linear light, spatially varying, with a camera's noise and JPEG.

What a phone or camera does to a shaken shot, in order (RSBlur, Rim et al. 2022, measured
each step on real blur: linear light +0.78 dB, noise +1.57 dB, saturation + camera pipeline
+0.29 dB):

1. sRGB -> linear light (kornia's exact sRGB transfer curves);
2. highlights: scene radiance above the sensor's white point is unknown in an 8-bit photo, so
   near-white pixels are boosted by a random gain (light sources, specular glints) before
   blurring, and clipped after: blurred lights become bright saturated streaks, as in real shots;
3. a spatially varying blur: the camera translates (a Boracchi-Foi shake path, blur.py) and rolls
   about the optical axis (the photo's centre), so each pixel follows its own path. Computed
   as efficient filter flow (Hirsch et al. 2010): the exact PSF at each node of a G x G grid
   over the window, each blurred by FFT, blended with bilinear weights;
4. shot (Poisson-like, variance proportional to the signal) and read (Gaussian) noise in
   linear light, then clipping at the white point;
5. linear -> sRGB, 8-bit quantisation and JPEG (q ~ 90) on the blurred image only.

The sharp target is the same photo through 1, 2 (clipped) and 5 without JPEG: the image at the
mean camera pose (trajectories are centred on their mean), so pairs are aligned.
No library ships this pipeline, hence our own code; every op in it is kornia/torch/albumentations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from gan_app.data.ranges import to_unit_tensor

from .blur import ShakeParams, blur, shake_trajectory, trajectory_to_psf


@dataclass(frozen=True)
class CameraParams:
    """Ranges from which each realistic sample draws its camera (all uniform unless noted)."""

    min_length: float = 10.0       # translation path length, px (at the working resolution)
    max_length: float = 45.0
    max_roll_deg: float = 1.0      # total roll swing during the exposure, degrees
    highlight_prob: float = 0.5    # probability that near-white pixels are boosted
    max_highlight_gain: float = 4.0
    max_shot: float = 2e-3         # shot-noise variance per unit linear signal (log-uniform from max/20)
    max_read: float = 3e-3         # read-noise std in linear light (log-uniform from max/20)
    jpeg_prob: float = 0.8
    jpeg_quality: tuple[int, int] = (85, 95)
    grid: int = 3                  # PSF nodes per side for the spatially varying blur

    def kernel_size(self, max_offset: float, length_scale: float = 1.0) -> int:
        """Odd PSF canvas holding the longest path plus the roll's drift at `max_offset` px from the centre."""
        reach = self.max_length * length_scale + math.radians(self.max_roll_deg) * max_offset
        return int(math.ceil(reach)) // 2 * 2 + 3


def srgb_to_linear(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) sRGB in [0, 1] -> linear light (IEC 61966-2-1), via kornia."""
    import kornia.color
    return kornia.color.rgb_to_linear_rgb(x)


def linear_to_srgb(x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) linear light in [0, 1] -> sRGB, via kornia."""
    import kornia.color
    return kornia.color.linear_rgb_to_rgb(x)


def boost_highlights(linear: torch.Tensor, gain: float) -> torch.Tensor:
    """Multiply near-white pixels by up to 1 + gain: a smooth ramp on luminance from 0.8 to 1.0 (linear)."""
    luma = (0.2126 * linear[:, 0] + 0.7152 * linear[:, 1] + 0.0722 * linear[:, 2])[:, None]   # (B, 1, H, W)
    ramp = ((luma - 0.8) / 0.2).clamp(0, 1)
    return linear * (1 + gain * ramp * ramp * (3 - 2 * ramp))     # smoothstep


def camera_path(rng: np.random.Generator, p: CameraParams, length_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """One exposure: (translation (T,) complex px, roll (T,) radians), both centred on their time mean."""
    length = rng.uniform(p.min_length, p.max_length) * length_scale
    shake = ShakeParams(kernel_size=3, max_length=length, samples=400)
    translation = shake_trajectory(rng, shake)
    swing = math.radians(rng.uniform(0, p.max_roll_deg))
    walk = np.cumsum(rng.normal(size=shake.samples))                           # a smooth random roll
    walk = np.convolve(walk, np.ones(40) / 40, mode="same")
    span = walk.max() - walk.min()
    roll = walk / span * swing if span > 0 else np.zeros_like(walk)
    return translation - translation.mean(), roll - roll.mean()


def local_psfs(translation: np.ndarray, roll: np.ndarray, nodes: np.ndarray, centre: complex,
               kernel_size: int) -> np.ndarray:
    """(N, K, K) PSFs at `nodes` (N,) complex pixel positions: each point's own path under translation + roll.

    A point p moves to centre + e^{i roll} (p - centre) + translation at each instant; its PSF is the
    time-average of a Dirac at that offset (blur.trajectory_to_psf, centred on its mass).
    """
    out = []
    for node in nodes:
        path = (node - centre) * (np.exp(1j * roll) - 1) + translation   # displacement of this point over time
        out.append(trajectory_to_psf(path, kernel_size))
    return np.stack(out)


def spatially_varying_blur(images: torch.Tensor, psfs: torch.Tensor, grid: int) -> torch.Tensor:
    """Blend FFT blurs of (1, C, H, W) by G x G node PSFs (G*G, K, K) with bilinear weights -> (1, C, H, W)."""
    _, c, h, w = images.shape
    blurred = blur(images, psfs)                                                # (G*G, C, H, W)
    wy = _hat_weights(h, grid, images.dtype)                                    # (G, H)
    wx = _hat_weights(w, grid, images.dtype)                                    # (G, W)
    weights = (wy[:, None, :, None] * wx[None, :, None, :]).reshape(grid * grid, 1, h, w)
    return (blurred * weights).sum(0, keepdim=True)


def _hat_weights(length: int, grid: int, dtype: torch.dtype) -> torch.Tensor:
    """(G, length) linear-interpolation weights of G evenly spaced nodes; they sum to 1 at every pixel."""
    if grid == 1:
        return torch.ones(1, length, dtype=dtype)
    pos = torch.arange(length, dtype=dtype) / max(1, length - 1) * (grid - 1)  # node units
    return (1 - (pos[None] - torch.arange(grid, dtype=dtype)[:, None]).abs()).clamp(min=0)


def grid_nodes(top: int, left: int, height: int, width: int, grid: int) -> np.ndarray:
    """(G*G,) complex positions (x + iy) of the grid nodes over a window, row-major like `spatially_varying_blur`."""
    ys = top + np.linspace(0, height - 1, grid) if grid > 1 else np.array([top + (height - 1) / 2])
    xs = left + np.linspace(0, width - 1, grid) if grid > 1 else np.array([left + (width - 1) / 2])
    return (xs[None, :] + 1j * ys[:, None]).ravel()


def realistic_pair(window: torch.Tensor, top: int, left: int, photo_size: tuple[int, int], p: CameraParams,
                   rng: np.random.Generator, length_scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(blurred, sharp), each (3, h, w) sRGB in [0, 1], from a sharp sRGB `window` (3, h, w).

    `top, left`: where the window lies in its photo of `photo_size` (H, W); the roll turns about
    that photo's centre, so windows far from it drift more. `length_scale` stretches the path
    (the benchmark's "2x longer" split). Borders are reflect-padded: a training caller passes a
    window with `p.kernel_size(...) // 2` px of margin and crops it away.
    """
    blurred, sharp, _ = realistic_shot(window, top, left, photo_size, p, rng, length_scale)
    return blurred, sharp


def realistic_shot(window: torch.Tensor, top: int, left: int, photo_size: tuple[int, int], p: CameraParams,
                   rng: np.random.Generator, length_scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`realistic_pair` plus the PSFs it blurred with: (blurred, sharp, (G*G, K, K) PSFs at the window's grid nodes)."""
    _, h, w = window.shape
    centre = complex((photo_size[1] - 1) / 2, (photo_size[0] - 1) / 2)
    far = max(abs(complex(x, y) - centre) for x in (left, left + w) for y in (top, top + h))
    translation, roll = camera_path(rng, p, length_scale)
    nodes = grid_nodes(top, left, h, w, p.grid)
    psfs = torch.from_numpy(local_psfs(translation, roll, nodes, centre, p.kernel_size(far, length_scale)))
    linear = srgb_to_linear(window[None].clamp(0, 1))                         # (1, 3, h, w)
    if rng.uniform() < p.highlight_prob:
        linear = boost_highlights(linear, rng.uniform(0, p.max_highlight_gain))
    sharp = linear_to_srgb(linear.clamp(0, 1))[0]
    blurred = spatially_varying_blur(linear, psfs, p.grid).clamp(min=0)
    shot = math.exp(rng.uniform(math.log(p.max_shot / 20), math.log(p.max_shot)))
    read = math.exp(rng.uniform(math.log(p.max_read / 20), math.log(p.max_read)))
    std = torch.sqrt(shot * blurred.clamp(0, 1) + read * read)
    blurred = blurred + std * torch.from_numpy(rng.standard_normal(blurred.shape).astype(np.float32))
    blurred = linear_to_srgb(blurred.clamp(0, 1))[0]
    return quantise_and_jpeg(blurred, p, rng), sharp, psfs


def quantise_and_jpeg(image: torch.Tensor, p: CameraParams, rng: np.random.Generator) -> torch.Tensor:
    """(3, h, w) [0, 1] -> 8-bit, JPEG-compressed with probability `p.jpeg_prob` -> (3, h, w)."""
    if rng.uniform() < p.jpeg_prob:
        return jpeg(image, p.jpeg_quality, rng)
    return to_unit_tensor(_to_uint8(image))


def jpeg(image: torch.Tensor, quality: tuple[int, int], rng: np.random.Generator) -> torch.Tensor:
    """(3, h, w) [0, 1] -> 8-bit -> JPEG at a quality drawn from `quality` (albumentations) -> (3, h, w)."""
    import albumentations as A

    compress = A.ImageCompression(quality_range=quality, p=1.0)
    compress.set_random_seed(int(rng.integers(2**31)))
    return to_unit_tensor(compress(image=_to_uint8(image))["image"])


def _to_uint8(image: torch.Tensor) -> np.ndarray:
    return (image.permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)    # (h, w, 3)
