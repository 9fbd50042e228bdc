"""Blur synthesis: random camera-shake trajectories -> PSF -> blurred image.

Written here from the description in Boracchi & Foi, "Modeling the performance of image
restoration from motion blur" (2012), the generator DeblurGAN used: a 2-D random walk
with inertia, Gaussian "anxiety" perturbations and rare impulsive jerks, sampled over
an exposure time; the PSF is the time-average of a Dirac at the trajectory position,
rasterised with bilinear weights. No library ships this generator, hence our own code.
Linear motion blur comes from kornia; the convolution itself is an FFT product (torch.fft).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class ShakeParams:
    """Trajectory parameters (pixels are kernel-canvas pixels)."""

    kernel_size: int = 31        # PSF canvas (odd)
    max_length: float = 20.0     # path length of the full trajectory, px
    anxiety: float = 0.005       # scale of the random velocity perturbations
    impulse_prob: float = 0.002  # probability of an abrupt jerk per time sample
    samples: int = 1000          # time samples of the trajectory
    exposure: float = 1.0        # fraction of the trajectory the shutter sees


def shake_trajectory(rng: np.random.Generator, p: ShakeParams) -> np.ndarray:
    """Complex positions (samples,) of one camera-shake path, starting at 0, length <= max_length."""
    step = p.max_length / (p.samples - 1)
    anxiety = p.anxiety * rng.uniform(0.5, 1.5)
    centripetal = 0.7 * rng.uniform(0.0, 1.0)
    gaussian_term = 10.0 * rng.uniform(0.0, 1.0)
    freq_big_shakes = p.impulse_prob * rng.uniform(0.0, 1.0)
    v = np.exp(1j * rng.uniform(0, 2 * np.pi)) * step
    x = np.zeros(p.samples, dtype=np.complex128)
    for t in range(1, p.samples):
        jerk = 0.0
        if rng.uniform() < freq_big_shakes:  # abrupt shake: reverse and twist the motion
            jerk = 2 * v * np.exp(1j * rng.uniform(np.pi - np.pi / 4, np.pi + np.pi / 4))
        dv = jerk + anxiety * (gaussian_term * (rng.normal() + 1j * rng.normal()) - centripetal * x[t - 1]) * step
        v = v + dv
        v = v / max(abs(v), 1e-12) * step          # constant speed: length is controlled
        x[t] = x[t - 1] + v
    return x


def trajectory_to_psf(x: np.ndarray, kernel_size: int, exposure: float = 1.0) -> np.ndarray:
    """(K, K) float32 PSF summing to 1: bilinear splat of the exposed part, centred on its mass."""
    n = max(2, int(round(len(x) * exposure)))
    pts = x[:n]
    pts = pts - pts.mean() + (kernel_size - 1) / 2 * (1 + 1j)
    psf = np.zeros((kernel_size, kernel_size), dtype=np.float64)
    cx, cy = np.clip(pts.real, 0, kernel_size - 1.001), np.clip(pts.imag, 0, kernel_size - 1.001)
    x0, y0 = np.floor(cx).astype(int), np.floor(cy).astype(int)
    fx, fy = cx - x0, cy - y0
    for dx, dy, w in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)), (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(psf, (y0 + dy, x0 + dx), w)
    return (psf / psf.sum()).astype(np.float32)


def random_shake_psf(rng: np.random.Generator, p: ShakeParams) -> np.ndarray:
    """One camera-shake PSF with a random length in [max_length/4, max_length]."""
    length = rng.uniform(p.max_length / 4, p.max_length)
    params = ShakeParams(p.kernel_size, length, p.anxiety, p.impulse_prob, p.samples, rng.uniform(0.5, 1.0))
    return trajectory_to_psf(shake_trajectory(rng, params), p.kernel_size, params.exposure)


def random_linear_psf(rng: np.random.Generator, kernel_size: int, max_length: float) -> np.ndarray:
    """A linear motion PSF from kornia (random angle, length and direction), padded to (K, K)."""
    import kornia

    length = int(rng.integers(3, max(4, int(max_length)) + 1)) | 1      # kornia wants odd sizes
    length = min(length, kernel_size)
    k = kornia.filters.get_motion_kernel2d(length, float(rng.uniform(0, 180)), float(rng.uniform(-1, 1)))
    pad = (kernel_size - length) // 2
    return F.pad(k[0], (pad, pad, pad, pad)).numpy().astype(np.float32)


def smooth_line_psf(length: float, angle: float, supersample: int = 8) -> np.ndarray:
    """(K, K) float32 PSF of a straight streak as optics make it: continuous, anti-aliased (a PIL line drawn at
    `supersample` x and box-averaged), `length` px at `angle` degrees counter-clockwise; sums to 1, K odd.
    (kornia's motion kernel is a rotated pixel row: jagged at most angles, with spectral structure a real
    streak does not have, which is why the `linear` evaluation split draws its own.)"""
    from PIL import Image, ImageDraw

    size = int(np.ceil(length) + 5) | 1
    canvas = Image.new("F", (size * supersample, size * supersample), 0.0)
    centre, half = size * supersample / 2, length * supersample / 2
    dx, dy = half * np.cos(np.radians(angle)), -half * np.sin(np.radians(angle))
    ImageDraw.Draw(canvas).line([(centre - dx, centre - dy), (centre + dx, centre + dy)], fill=1.0, width=supersample)
    psf = np.asarray(canvas, np.float64).reshape(size, supersample, size, supersample).mean(axis=(1, 3))
    return (psf / psf.sum()).astype(np.float32)


def fft_size(n: int) -> int:
    """Smallest m >= n whose only prime factors are 2, 3 and 5: FFTs of such lengths are several times faster."""
    while True:
        m = n
        for f in (2, 3, 5):
            while m % f == 0:
                m //= f
        if m == 1:
            return n
        n += 1


def blur(images: torch.Tensor, psf: torch.Tensor) -> torch.Tensor:
    """Convolve (B, C, H, W) images with PSFs (K, K) or (B, K, K), K odd; reflect borders; same size.

    Computed with torch.fft rather than a direct (K x K) convolution: on a training crop with
    K = 31 it is several times faster (`benchmarks/deblur.py data`) and agrees to 1e-6.
    The image is reflect-padded by K // 2 and circularly convolved at a size >= the padded one
    (rounded up to a fast FFT length); the cropped window is exactly where no wrap-around
    reaches, i.e. the linear convolution. A (1, C, H, W) image with (B, K, K) PSFs gives B
    results from one forward transform of the image.
    """
    if psf.ndim == 2:
        psf = psf[None]
    k, r = psf.shape[-1], psf.shape[-1] // 2
    h, w = images.shape[-2:]
    padded = F.pad(images, (r, r, r, r), mode="reflect")                 # (B, C, H + K - 1, W + K - 1)
    size = (fft_size(padded.shape[-2]), fft_size(padded.shape[-1]))
    spectrum = torch.fft.rfft2(padded, s=size) * torch.fft.rfft2(psf.to(images.dtype), s=size)[:, None]
    return torch.fft.irfft2(spectrum, s=size)[..., k - 1:k - 1 + h, k - 1:k - 1 + w]
