"""DCGAN generator and discriminator (Radford et al. 2016) for any power-of-two resolution >= 8.

The DCGAN rules, kept here: strided (transposed) convs instead of pooling/upsampling layers,
no fully connected hidden layers (z enters as a 1x1 map, the logit leaves a 4x4 valid conv),
batch norm everywhere except the generator output and the discriminator input, ReLU + tanh in
G, LeakyReLU(0.2) in D.

Widths halve as resolution doubles: at spatial size s the feature width is
base_width * resolution / (2 s), so for resolution 64 G runs 4x4x512 -> 8x8x256 -> 16x16x128
-> 32x32x64 -> 64x64xC and D mirrors it.

Odd-sized data (28x28 Fashion-MNIST) is padded or resized to the next power of two (32) by
the head's data pipeline; these models only take power-of-two squares.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .blocks import ConvNormAct
from .spectral import maybe_spectral


def _num_doublings(resolution: int) -> int:
    """log2(resolution / 4): the number of stride-2 stages between 4x4 and the image."""
    if resolution < 8 or resolution & (resolution - 1):
        raise ValueError(f"DCGAN resolution must be a power of two >= 8, got {resolution}")
    return resolution.bit_length() - 1 - 2


class DCGANGenerator(nn.Module):
    """z (B, z_dim) [+ cond (B, cond_dim)] [+ labels (B,)] -> image (B, out_channels, R, R) in [-1, 1].

    - `cond_dim > 0`: an extra conditioning vector (label embedding, text embedding) is
      concatenated to z; pass it as `cond`.
    - `norm="cbn"` with `num_classes > 0`: every hidden norm is `ConditionalBatchNorm2d`; pass
      class ids as `labels` (second positional argument).
    `norm` may also be "batch" (DCGAN), "instance", "none" or "virtual" (virtual batch norm, also
    conditional with `num_classes > 0`; the caller runs a reference batch through
    `gan_app.losses.improved.virtual_forward` in train mode).
    """

    def __init__(
        self,
        z_dim: int = 100,
        out_channels: int = 3,
        resolution: int = 64,
        base_width: int = 64,
        cond_dim: int = 0,
        norm: str = "batch",
        num_classes: int = 0,
    ):
        super().__init__()
        n_up = _num_doublings(resolution)
        if (norm == "cbn" and num_classes <= 0) or (num_classes > 0 and norm not in ("cbn", "virtual")):
            raise ValueError("use norm='cbn' (or 'virtual') together with num_classes > 0, and 'cbn' only with it")
        self.z_dim, self.cond_dim, self.num_classes = z_dim, cond_dim, num_classes
        self.out_channels, self.resolution = out_channels, resolution
        width = base_width * 2 ** (n_up - 1)  # width at 4x4 = base_width * R / 8
        hidden = dict(norm=norm, act="relu", transposed=True, num_classes=num_classes)
        blocks = [ConvNormAct(z_dim + cond_dim, width, 4, stride=1, padding=0, **hidden)]  # 1x1 -> 4x4
        for _ in range(n_up - 1):
            blocks.append(ConvNormAct(width, width // 2, 4, stride=2, **hidden))
            width //= 2
        self.blocks = nn.ModuleList(blocks)
        self.to_image = ConvNormAct(width, out_channels, 4, stride=2, norm="none", act="tanh", transposed=True)

    def forward(
        self, z: torch.Tensor, labels: torch.Tensor | None = None, cond: torch.Tensor | None = None
    ) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z must be (B, {self.z_dim}), got {tuple(z.shape)}")
        if (cond is None) != (self.cond_dim == 0):
            raise ValueError(f"cond (B, {self.cond_dim}) is required iff cond_dim > 0 (cond_dim={self.cond_dim})")
        if (labels is None) != (self.num_classes == 0):
            raise ValueError(f"labels (B,) are required iff num_classes > 0 (num_classes={self.num_classes})")
        if cond is not None:
            if cond.shape != (z.shape[0], self.cond_dim):
                raise ValueError(f"cond must be (B, {self.cond_dim}), got {tuple(cond.shape)}")
            z = torch.cat([z, cond], dim=1)  # (B, z_dim + cond_dim)
        x = z[:, :, None, None]  # (B, z_dim + cond_dim, 1, 1)
        for block in self.blocks:
            x = block(x, labels)  # (B, w, 4 * 2**i, 4 * 2**i)
        return self.to_image(x)  # (B, C, R, R) in [-1, 1]


class DCGANDiscriminator(nn.Module):
    """image (B, in_channels, R, R) -> logits (B,) [, features (B, feature_dim)].

    The input layer has no norm; hidden layers use `norm` ("batch" per DCGAN, "instance" or
    "none", the usual choice with `spectral=True`). `features(x)` gives the penultimate 4x4 map
    (B, C4, 4, 4); `out_features=True` also returns it flattened, for feature matching or for a
    `ProjectionHead` / `AuxClassifierHead` on top (`feature_dim = C4 * 16`).
    """

    def __init__(
        self,
        in_channels: int = 3,
        resolution: int = 64,
        base_width: int = 64,
        norm: str = "batch",
        spectral: bool = False,
        out_features: bool = False,
    ):
        super().__init__()
        n_down = _num_doublings(resolution)
        self.in_channels, self.resolution, self.out_features = in_channels, resolution, out_features
        layer = dict(kernel_size=4, stride=2, act="lrelu", spectral=spectral)
        blocks = [ConvNormAct(in_channels, base_width, norm="none", **layer)]  # R -> R/2
        width = base_width
        for _ in range(n_down - 1):
            blocks.append(ConvNormAct(width, width * 2, norm=norm, **layer))
            width *= 2
        self.blocks = nn.Sequential(*blocks)
        self.feature_dim = width * 16
        self.to_logit = maybe_spectral(nn.Conv2d(width, 1, 4, stride=1, padding=0), spectral)  # 4x4 -> 1x1

    def features(self, x: torch.Tensor) -> torch.Tensor:
        expected = (self.in_channels, self.resolution, self.resolution)
        if x.dim() != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(f"DCGANDiscriminator expects (B, {', '.join(map(str, expected))}), got {tuple(x.shape)}")
        return self.blocks(x)  # (B, C4, 4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        feats = self.features(x)  # (B, C4, 4, 4)
        logits = self.to_logit(feats).flatten()  # (B,)
        return (logits, feats.flatten(1)) if self.out_features else logits
