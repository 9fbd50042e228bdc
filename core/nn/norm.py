"""Normalisation, activation and spectral-norm options shared by every block in `gan_app.nn`.

Blocks take `norm="batch"|"instance"|"none"|"cbn"|"virtual"` and `act="relu"|"lrelu"|...` strings, so
model configs stay plain JSON and the checkpoint alone rebuilds the model.

Spectral-norm helpers live in `spectral.py` and are re-exported here.
"""

from __future__ import annotations

from functools import partial

import torch.nn as nn

from gan_app.losses.improved import VirtualBatchNorm2d

from .conditional import ConditionalBatchNorm2d
from .spectral import maybe_spectral, remove_spectral_norm_

__all__ = ["make_norm", "make_act", "is_conditional", "maybe_spectral", "remove_spectral_norm_"]

NORM_KINDS = ("batch", "instance", "none", "cbn", "virtual")
ACT_KINDS = ("relu", "lrelu", "prelu", "silu", "gelu", "tanh", "sigmoid", "none")


def make_norm(kind: str, channels: int, conditional_classes: int = 0) -> nn.Module:
    """A 2-d normalisation layer over `channels` feature maps.

    - "batch": `BatchNorm2d`; with `conditional_classes > 0` it becomes conditional ("cbn").
    - "cbn": `ConditionalBatchNorm2d(channels, conditional_classes)`; call it as `norm(x, labels)`.
    - "instance": `InstanceNorm2d(affine=True, track_running_stats=False)`: per-image statistics
      in train and eval alike (what pix2pix/CycleGAN/DeblurGAN use).
    - "virtual": `VirtualBatchNorm2d` (Salimans et al.): statistics of a fixed reference batch, which
      the model runs through `virtual_forward` in every train-mode forward; with
      `conditional_classes > 0` a `ConditionalBatchNorm2d` on virtual statistics.
    - "none": `Identity`.
    """
    if kind not in NORM_KINDS:
        raise ValueError(f"norm must be one of {NORM_KINDS}, got {kind!r}")
    if kind == "cbn" or (kind in ("batch", "virtual") and conditional_classes > 0):
        if conditional_classes <= 0:
            raise ValueError("norm='cbn' needs conditional_classes > 0")
        return ConditionalBatchNorm2d(channels, conditional_classes, virtual=kind == "virtual")
    if conditional_classes > 0:
        raise ValueError(f"norm={kind!r} cannot be conditional; use 'batch', 'virtual' or 'cbn'")
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "virtual":
        return VirtualBatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True, track_running_stats=False)
    return nn.Identity()


def is_conditional(module: nn.Module) -> bool:
    """True for layers that must be called as `module(x, labels)`."""
    return isinstance(module, ConditionalBatchNorm2d)


def make_act(kind: str) -> nn.Module:
    """An activation by name; "lrelu" is LeakyReLU(0.2), the slope DCGAN and pix2pix use."""
    if kind not in ACT_KINDS:
        raise ValueError(f"activation must be one of {ACT_KINDS}, got {kind!r}")
    return {
        "relu": nn.ReLU,
        "lrelu": partial(nn.LeakyReLU, 0.2),
        "prelu": nn.PReLU,
        "silu": nn.SiLU,
        "gelu": nn.GELU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "none": nn.Identity,
    }[kind]()
