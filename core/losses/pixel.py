"""Pixel reconstruction losses. Plain L1/L2 are torch's `F.l1_loss` / `F.mse_loss`."""

from __future__ import annotations

import math

import torch
from torch import Tensor


def charbonnier_loss(pred: Tensor, target: Tensor, eps: float = 1e-3) -> Tensor:
    """E[ sqrt((pred - target)² + eps²) ], a differentiable L1 (LapSRN, DeblurGAN-v2 content term).

    `pred` and `target` share any shape, e.g. (B, C, H, W), in the same value range. Written
    here because kornia's `charbonnier_loss` is a different function (sqrt(d² + 1) - 1, no eps).
    The result is fp32 (at least) even for bf16 inputs under autocast.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    wide = torch.promote_types(pred.dtype, torch.float32)  # bf16/fp16 go up, float64 stays
    diff = pred.to(wide) - target.to(wide)
    return torch.sqrt(diff.pow(2) + eps * eps).mean()


def frequency_l1_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean |FFT(pred) - FFT(target)| over real and imaginary parts, orthonormal 2-D FFT per channel.

    The frequency term of MIMO-UNet/DeepRFT: pixel losses under-weight the small high-frequency
    coefficients that make an edge look sharp, this term weighs every frequency alike. With
    `norm="ortho"` (Parseval) its scale matches a pixel L1's and does not grow with the crop.
    Images (B, C, H, W); computed in fp32.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    diff = torch.fft.rfft2(pred.float() - target.float(), norm="ortho")    # (B, C, H, W // 2 + 1) complex
    return torch.view_as_real(diff).abs().mean()


def psnr_loss(pred: Tensor, target: Tensor, eps: float = 1e-8) -> Tensor:
    """Minus the mean per-image PSNR in dB for a peak of 1: (10 / ln 10) x mean_b log(MSE_b + eps).

    NAFNet's training loss. Benchmarks here report the mean of per-image PSNR, which this
    optimises directly: an MSE (mean, not median, of what the input allows, unlike L1) whose
    per-image weight is 1 / MSE_b, so a well-restored image counts as much as a hard one.
    Images (B, C, H, W) in [0, 1]; the result is fp32 and negative for any error under 1.
    """
    if pred.shape != target.shape:
        raise ValueError(f"pred and target shapes differ: {tuple(pred.shape)} vs {tuple(target.shape)}")
    wide = torch.promote_types(pred.dtype, torch.float32)
    mse = (pred.to(wide) - target.to(wide)).pow(2).flatten(1).mean(1)      # (B,)
    return (10.0 / math.log(10.0)) * torch.log(mse + eps).mean()
