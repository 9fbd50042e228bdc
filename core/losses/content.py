"""Content (reconstruction) losses for image-to-image heads, chosen by name.

`perceptual` is VGG19 features and needs ImageNet weights (see perceptual.py); heads
record in their model card which content loss was really used.
"""

from __future__ import annotations

from typing import Callable

import torch.nn.functional as F

from ..errors import UserError

CONTENT_LOSSES = ("charbonnier", "l1", "l2", "psnr", "perceptual")


def content_loss(kind: str, perceptual_layers=("conv3_3",), vgg_weights: str = "imagenet",
                 input_range: tuple[float, float] = (0.0, 1.0)) -> Callable:
    """A callable (pred, target) -> scalar tensor; images (B, C, H, W) in `input_range`.

    `vgg_weights` (perceptual only): where the VGG19 weights come from, `imagenet`, a file, or
    `random` (offline experiments only)."""
    if kind == "charbonnier":
        from .pixel import charbonnier_loss
        return charbonnier_loss
    if kind == "l1":
        return F.l1_loss
    if kind == "l2":
        return F.mse_loss
    if kind == "psnr":
        from .pixel import psnr_loss
        return psnr_loss
    if kind == "perceptual":
        from .perceptual import VGGPerceptualLoss
        weights = None if vgg_weights == "random" else vgg_weights
        return VGGPerceptualLoss(layers=perceptual_layers, weights=weights, input_range=input_range)
    raise UserError(f"unknown content loss {kind!r}; choose one of {', '.join(CONTENT_LOSSES)}")
