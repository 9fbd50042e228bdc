"""U-Net discriminator with spectral norm: one realness logit per pixel (the critic of Real-ESRGAN, Wang et al. 2021).

Why a second critic family beside the PatchGAN: a PatchGAN gives one logit per ~70 px patch, so its
gradient says "this patch's texture statistics look fake" and the generator answers with any high
frequencies that fool it (session 8 and 12's lattices on the deblur head). A U-Net critic brings the
context of its coarse encoder (1/2**depth resolution) back to every pixel through the decoder and its
skips, so each logit can say which pixels are wrong; spectral norm on every conv keeps it Lipschitz without
a gradient penalty. Real-ESRGAN pairs it with L1 + perceptual content terms for its short GAN stage.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .spectral import maybe_spectral


class UNetDiscriminator(nn.Module):
    """x (B, in_channels, H, W) -> per-pixel logits (B, 1, H, W); any H, W >= 2**depth.

    Encoder: 3x3 conv to `base_width`, then `depth` 4x4 stride-2 convs doubling the width (capped at
    8x). Decoder: at each level bilinear 2x up to the skip's size, 3x3 conv to the skip's width, add the
    skip. Then two 3x3 convs and a 1-channel 3x3 conv. LeakyReLU 0.2 after every conv but the last; no
    normalisation layers (spectral norm only, `spectral=True`), so its logits do not depend on the batch.
    Conditional use (the critic sees the generator's input too): concatenate on channels and set
    `in_channels` accordingly.
    """

    def __init__(self, in_channels: int = 3, base_width: int = 64, depth: int = 3, spectral: bool = True):
        super().__init__()
        if depth < 1:
            raise ValueError(f"UNetDiscriminator depth must be >= 1, got {depth}")

        def conv(cin: int, cout: int, k: int = 3, stride: int = 1) -> nn.Module:
            return maybe_spectral(nn.Conv2d(cin, cout, k, stride=stride, padding=1), spectral)

        widths = [base_width * min(2**i, 8) for i in range(depth + 1)]   # at 1, 1/2, ..., 1/2**depth
        self.stem = nn.Conv2d(in_channels, widths[0], 3, padding=1)      # Real-ESRGAN leaves the first conv plain
        self.down = nn.ModuleList(conv(widths[i], widths[i + 1], 4, 2) for i in range(depth))
        self.up = nn.ModuleList(conv(widths[i + 1], widths[i]) for i in reversed(range(depth)))
        self.refine = nn.Sequential(conv(widths[0], widths[0]), nn.LeakyReLU(0.2, inplace=True),
                                    conv(widths[0], widths[0]), nn.LeakyReLU(0.2, inplace=True))
        self.out = nn.Conv2d(widths[0], 1, 3, padding=1)
        self.in_channels, self.depth = in_channels, depth

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"UNetDiscriminator expects (B, {self.in_channels}, H, W), got {tuple(x.shape)}")
        if min(x.shape[-2:]) < 2**self.depth:
            raise ValueError(f"UNetDiscriminator of depth {self.depth} needs H, W >= {2**self.depth}, got {tuple(x.shape[-2:])}")
        skips = [F.leaky_relu(self.stem(x), 0.2)]                        # (B, w0, H, W)
        for down in self.down:
            skips.append(F.leaky_relu(down(skips[-1]), 0.2))            # (B, w_i, ~H/2**i, ~W/2**i)
        y = skips.pop()
        for up in self.up:
            skip = skips.pop()
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = F.leaky_relu(up(y), 0.2) + skip                          # (B, w_skip, h_skip, w_skip)
        return self.out(self.refine(y))                                  # (B, 1, H, W)
