"""LR images from HR ones: classic bicubic downsampling and a realistic second-order chain.

- `bicubic_down`: Pillow's antialiased bicubic resize of a uint8 image, rounded to uint8
  (what DIV2K's "bicubic" LR sets and most SR benchmarks use). Training and evaluation
  share it, so the benchmark measures the degradation the model was trained for.
- `realistic_down`: Real-ESRGAN's idea (Wang et al. 2021): the degradation chain
  blur -> random resize -> noise -> JPEG, applied twice (second order), then a final
  resize to the LR size and JPEG. `PHOTO` holds milder ranges (what phone and web photos
  show: noise <= 8/255, JPEG >= q50) than Real-ESRGAN's defaults, which are sized for
  heavily degraded web images.
- `camera_down`: one pass of what a camera and a web upload do: blur the HR image, downscale
  with a random filter, add sensor noise at the LR size, JPEG. The held-out `realworld`
  benchmark split uses it with `CAMERA_EVAL`. Blur kernels come from kornia (isotropic or
  anisotropic Gaussian, rotated), JPEG from albumentations; noise and the random choices
  come from the numpy generator passed in, so a seeded run is exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from gan_app.data.ranges import to_unit_tensor


def bicubic_down(hr: np.ndarray, scale: int) -> np.ndarray:
    """(H, W, C) uint8 -> (H // scale, W // scale, C) uint8, Pillow bicubic with antialiasing.

    H and W must be multiples of `scale` (crop first), so LR pixel (i, j) covers HR
    pixels [i*s, (i+1)*s) exactly.
    """
    h, w = hr.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f"HR size {w}x{h} is not a multiple of the scale {scale}")
    return np.asarray(Image.fromarray(hr).resize((w // scale, h // scale), Image.Resampling.BICUBIC))


@dataclass(frozen=True)
class RealisticParams:
    """Ranges of the second-order chain (Real-ESRGAN's defaults, scaled for small crops)."""

    blur_prob: float = 0.9
    sigma: tuple[float, float] = (0.2, 3.0)        # first-order blur std, HR px
    sigma2: tuple[float, float] = (0.2, 1.5)       # second-order blur std
    resize: tuple[float, float] = (0.15, 1.5)      # random resize factor of each order
    noise: tuple[float, float] = (1.0, 30.0)       # Gaussian noise std, on the 0..255 scale
    poisson_prob: float = 0.4                      # Poisson (shot) noise instead of Gaussian
    grey_noise_prob: float = 0.4
    jpeg: tuple[int, int] = (30, 95)
    second_order_prob: float = 0.8


PHOTO = RealisticParams(sigma=(0.2, 2.0), sigma2=(0.2, 1.0), resize=(0.5, 1.5), noise=(0.5, 8.0),
                        jpeg=(50, 95), second_order_prob=0.5)


@dataclass(frozen=True)
class CameraParams:
    """Ranges of `camera_down` (uniform draws)."""

    sigma: tuple[float, float] = (0.4, 1.6)        # HR blur std (lens, shake, demosaicing), px
    noise: tuple[float, float] = (0.5, 4.0)        # LR Gaussian noise std, 0..255 scale
    grey_noise_prob: float = 0.4                   # luminance-only noise
    jpeg: tuple[int, int] = (55, 90)


CAMERA_EVAL = CameraParams()
# Training ranges of the `camera` degradation: every range wider than the held-out split's on both sides
# (sharper and blurrier lenses, clean and noisier sensors, better and worse JPEG), so a model learns the
# family of one-pass camera pipelines rather than the benchmark's box.
CAMERA_TRAIN = CameraParams(sigma=(0.2, 2.0), noise=(0.0, 6.0), jpeg=(45, 95))


def _gaussian_kernel(rng: np.random.Generator, sigma_range: tuple[float, float], size: int = 21) -> torch.Tensor:
    """(size, size) Gaussian kernel summing to 1: isotropic or anisotropic, rotated by a random angle."""
    import kornia

    sx = float(rng.uniform(*sigma_range))
    sy = sx if rng.uniform() < 0.5 else float(rng.uniform(*sigma_range))
    kernel = kornia.filters.get_gaussian_kernel2d((size, size), torch.tensor([[sy, sx]]))        # (1, K, K)
    angle = torch.tensor([float(rng.uniform(0, 180))])
    kernel = kornia.geometry.transform.rotate(kernel[None], angle)[0]                          # (1, K, K)
    return kernel / kernel.sum()


def _blur(img: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    import kornia

    return kornia.filters.filter2d(img, kernel, border_type="reflect")   # symmetric kernel: correlation = convolution


def _resize(img: torch.Tensor, size: tuple[int, int], rng: np.random.Generator) -> torch.Tensor:
    mode = ("area", "bilinear", "bicubic")[int(rng.integers(3))]
    kwargs = {} if mode == "area" else {"align_corners": False, "antialias": True}
    return F.interpolate(img, size=size, mode=mode, **kwargs)


def _noise(img: torch.Tensor, p: RealisticParams, rng: np.random.Generator) -> torch.Tensor:
    shape = (1, 1, *img.shape[2:]) if rng.uniform() < p.grey_noise_prob else img.shape
    if rng.uniform() < p.poisson_prob:
        peak = 10 ** rng.uniform(1.5, 3.0)                        # photons at full scale
        lam = img.clamp(0, 1).numpy() * peak
        noisy = rng.poisson(lam if shape == img.shape else lam.mean(axis=1, keepdims=True)) / peak
        base = img if shape == img.shape else img.mean(dim=1, keepdim=True)
        return img + torch.from_numpy(noisy.astype(np.float32)) - base
    std = rng.uniform(*p.noise) / 255.0
    return img + torch.from_numpy(rng.normal(0.0, std, shape).astype(np.float32))


def _jpeg(img: torch.Tensor, p: RealisticParams, rng: np.random.Generator) -> torch.Tensor:
    import albumentations as A

    jpeg = A.ImageCompression(quality_range=p.jpeg, p=1.0)
    jpeg.set_random_seed(int(rng.integers(2**31)))
    return to_unit_tensor(jpeg(image=_to_uint8(img))["image"])[None]


def _hr_tensor(hr: np.ndarray, scale: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """(H, W, 3) uint8 HR -> ((1, 3, H, W) float32 in [0, 1], the LR size (H // scale, W // scale)).

    ValueError unless H and W are multiples of `scale`: the LR must tile the HR exactly.
    """
    h, w = hr.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f"HR size {w}x{h} is not a multiple of the scale {scale}")
    return to_unit_tensor(hr)[None], (h // scale, w // scale)


def _to_uint8(img: torch.Tensor) -> np.ndarray:
    """(1, 3, h, w) float in [0, 1] (clamped) -> (h, w, 3) uint8, rounded."""
    return (img[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def realistic_down(hr: np.ndarray, scale: int, rng: np.random.Generator, p: RealisticParams = RealisticParams()) -> np.ndarray:
    """(H, W, 3) uint8 HR -> (H // scale, W // scale, 3) uint8 LR through the second-order chain."""
    img, lr_size = _hr_tensor(hr, scale)   # (1, 3, H, W)
    orders = 2 if rng.uniform() < p.second_order_prob else 1
    for order in range(orders):
        if rng.uniform() < p.blur_prob:
            img = _blur(img, _gaussian_kernel(rng, p.sigma if order == 0 else p.sigma2))
        factor = rng.uniform(*p.resize) ** (1.0 if order == 0 else 0.5)
        side = (max(8, round(img.shape[2] * factor)), max(8, round(img.shape[3] * factor)))
        img = _noise(_resize(img, side, rng), p, rng).clamp(0, 1)
        if order < orders - 1:
            img = _jpeg(img, p, rng)
    img = _jpeg(_resize(img, lr_size, rng).clamp(0, 1), p, rng)   # (1, 3, h, w)
    return _to_uint8(img)


def camera_down(hr: np.ndarray, scale: int, rng: np.random.Generator, p: CameraParams = CAMERA_EVAL) -> np.ndarray:
    """(H, W, 3) uint8 HR -> (H // scale, W // scale, 3) uint8: blur, random-filter downscale, LR noise, JPEG."""
    img, lr_size = _hr_tensor(hr, scale)   # (1, 3, H, W)
    img = _blur(img, _gaussian_kernel(rng, p.sigma))
    img = _resize(img, lr_size, rng)   # (1, 3, h, w)
    shape = (1, 1, *img.shape[2:]) if rng.uniform() < p.grey_noise_prob else img.shape
    img = img + torch.from_numpy(rng.normal(0.0, rng.uniform(*p.noise) / 255.0, shape).astype(np.float32))
    img = _jpeg(img.clamp(0, 1), RealisticParams(jpeg=p.jpeg), rng)
    return _to_uint8(img)
