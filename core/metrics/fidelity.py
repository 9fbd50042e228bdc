"""Full-reference fidelity metrics on (H, W, C) float images in [0, 1] (scikit-image's implementations).

Protocol knobs that papers disagree on are explicit: `crop` border pixels removed
(super-resolution crops `scale` pixels), and `y_channel` to measure luma only (BT.601),
as SR papers do.
"""

from __future__ import annotations

import numpy as np


def _prepare(img: np.ndarray, crop: int, y_channel: bool) -> np.ndarray:
    img = np.asarray(img, dtype=np.float64)
    if img.ndim == 2:
        img = img[:, :, None]
    if crop:
        img = img[crop:-crop, crop:-crop]
    if y_channel and img.shape[2] == 3:
        img = (16.0 + 65.481 * img[..., 0] + 128.553 * img[..., 1] + 24.966 * img[..., 2])[..., None] / 255.0
    return img


def psnr(pred: np.ndarray, target: np.ndarray, crop: int = 0, y_channel: bool = False) -> float:
    """PSNR in dB of `pred` vs `target`, both (H, W[, C]) in [0, 1]."""
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _prepare(pred, crop, y_channel), _prepare(target, crop, y_channel)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(peak_signal_noise_ratio(b, a, data_range=1.0))


def ssim(pred: np.ndarray, target: np.ndarray, crop: int = 0, y_channel: bool = False) -> float:
    """Mean SSIM (Gaussian window, sigma 1.5, as Wang et al.) of `pred` vs `target` in [0, 1]."""
    from skimage.metrics import structural_similarity

    a, b = _prepare(pred, crop, y_channel), _prepare(target, crop, y_channel)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(structural_similarity(b, a, data_range=1.0, channel_axis=2, gaussian_weights=True,
                                       sigma=1.5, use_sample_covariance=False))
