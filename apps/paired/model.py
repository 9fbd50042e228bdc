"""pix2pix models for the paired head: a U-Net generator and a conditional PatchGAN.

The generator takes and returns images in [0, 1] (the runtime's range) and works in
[-1, 1] inside, as pix2pix does (tanh output). The discriminator judges the pair
(A, B) concatenated on channels (core ImageToImageObjective with critic_sees_source), so it
learns whether B is right *for this A*.
"""

from __future__ import annotations

import torch
from torch import nn

from gan_app.nn.patchgan import PatchDiscriminator
from gan_app.nn.unet import UNetGenerator

from .config import PairedModelConfig


class PairedGenerator(nn.Module):
    """(B, in_channels, H, W) in [0, 1] -> (B, out_channels, H, W) in [0, 1]; H, W multiples of 2**depth."""

    def __init__(self, cfg: PairedModelConfig):
        super().__init__()
        self.unet = UNetGenerator(cfg.in_channels, cfg.out_channels, cfg.width, cfg.depth, cfg.norm, cfg.dropout, "tanh")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.unet(x * 2 - 1) + 1) / 2  # (B, C_out, H, W)


def build(cfg: PairedModelConfig) -> tuple[nn.Module, nn.Module]:
    """(generator, conditional PatchGAN over in_channels + out_channels)."""
    if cfg.in_channels not in (1, 3) or cfg.out_channels not in (1, 3):
        raise ValueError(f"in/out channels must be 1 or 3, got {cfg.in_channels}/{cfg.out_channels}")
    critic = PatchDiscriminator(cfg.in_channels + cfg.out_channels, cfg.d_width, cfg.d_layers, norm="instance")
    return PairedGenerator(cfg), critic
