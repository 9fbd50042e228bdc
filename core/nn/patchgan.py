"""PatchGAN discriminators (pix2pix NLayerDiscriminator; multi-scale as in pix2pixHD / DeblurGAN-v2).

A PatchGAN classifies every N x N patch as real or fake: it outputs a logit map, and each
logit sees only its receptive field (70 x 70 px for the default n_layers=3), so it judges
texture and sharpness while an L1/perceptual loss keeps low frequencies right.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .blocks import ConvNormAct
from .spectral import maybe_spectral


class PatchDiscriminator(nn.Module):
    """x (B, in_channels, H, W) -> patch logits (B, 1, H', W').

    Layers (k=4): conv s2 + LeakyReLU (no norm), then n_layers-1 conv s2 + norm + LeakyReLU with
    widths doubling up to 8 * base_width, one conv s1 + norm + LeakyReLU, and a 1-channel conv s1.
    For H = 256 and n_layers=3, H' = 30. Paired (conditional) use: pass the input and the
    output concatenated on channels, with in_channels set accordingly.
    """

    def __init__(
        self,
        in_channels: int = 3,
        base_width: int = 64,
        n_layers: int = 3,
        norm: str = "instance",
        spectral: bool = False,
    ):
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        if norm == "cbn":
            raise ValueError("PatchDiscriminator norm must be 'batch', 'instance' or 'none'")
        layer = dict(kernel_size=4, padding=1, act="lrelu", spectral=spectral)
        layers = [ConvNormAct(in_channels, base_width, stride=2, norm="none", **layer)]
        width = base_width
        for i in range(1, n_layers + 1):
            new_width = base_width * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers.append(ConvNormAct(width, new_width, stride=stride, norm=norm, **layer))
            width = new_width
        layers.append(maybe_spectral(nn.Conv2d(width, 1, 4, stride=1, padding=1), spectral))
        self.net = nn.Sequential(*layers)
        self.in_channels = in_channels
        self.n_layers = n_layers

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"PatchDiscriminator expects (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        return self.net(x)  # (B, 1, H', W')


class MultiScaleDiscriminator(nn.Module):
    """`num_scales` PatchDiscriminators on the input, then on 2x, 4x, ... average-pooled copies.

    Returns a list of logit maps, full resolution first; coarser scales see a larger context
    with the same network shape. Pooling is avg-pool 3, stride 2, padding 1 without counting
    padding (pix2pixHD). `patch_kwargs` go to every `PatchDiscriminator`.
    """

    def __init__(self, num_scales: int = 2, **patch_kwargs):
        super().__init__()
        if num_scales < 1:
            raise ValueError(f"num_scales must be >= 1, got {num_scales}")
        self.discriminators = nn.ModuleList(PatchDiscriminator(**patch_kwargs) for _ in range(num_scales))
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs = []
        for i, disc in enumerate(self.discriminators):
            if i > 0:
                x = self.downsample(x)  # (B, C, ceil(H / 2), ceil(W / 2))
            outputs.append(disc(x))  # (B, 1, H_i', W_i')
        return outputs
