"""Deblur generators and critics.

- `resnet9`: DeblurGAN v1 (Kupyn et al. 2018) generator: 7x7 stem, two stride-2
  downsamplings, 9 residual blocks at 256 channels (64 filters doubled twice), instance
  norm, two transposed-conv upsamplings, tanh and a global skip (output = clamp(input +
  residual)). Kept as the quality/speed reference.
- `fast` (default): our CPU-first design in the spirit of DeblurGAN-v2's FPN-MobileNet:
  the image is folded to 1/4 resolution with strided convs, processed by inverted
  residual blocks (depthwise 3x3 + pointwise, MobileNetV2), and unfolded with pixel
  shuffle plus skip connections from each scale. No normalisation layers, so tiled
  inference gives the same pixels as whole-image inference.

Both take and return (B, 3, H, W) images in [0, 1]; H and W must be multiples of 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_app.nn.blocks import ResidualBlock
from gan_app.nn.patchgan import MultiScaleDiscriminator, PatchDiscriminator

SIZE_MULTIPLE = 4


@dataclass
class DeblurModelConfig:
    """Architecture and training objective of a deblur model (stored in checkpoints/ONNX)."""

    generator: str = "fast"          # fast | resnet9
    width: int = 32                  # fast: channels at 1/4 resolution = 2 * width; resnet9: ngf (64)
    blocks: int = 8                  # fast: inverted residual blocks; resnet9: residual blocks (9)
    expansion: int = 2               # fast: inverted residual expansion factor
    critic: str = "patchgan"         # patchgan (v1: WGAN-GP) | double_scale (v2: RaLSGAN, 2 scales)
    d_width: int = 64
    d_layers: int = 3
    content_loss: str = "charbonnier"   # charbonnier | l1 | perceptual (VGG19 conv3_3, needs ImageNet weights)
    content_weight: float = 100.0       # DeblurGAN v1 uses 100 x content + 1 x adversarial
    perceptual_weights: str = "imagenet"  # imagenet | PATH | random (offline experiments only)


class InvertedResidual(nn.Module):
    """MobileNetV2 block without norm: 1x1 expand -> ReLU -> 3x3 depthwise -> ReLU -> 1x1 project, + x."""

    def __init__(self, channels: int, expansion: int):
        super().__init__()
        hidden = channels * expansion
        self.body = nn.Sequential(
            nn.Conv2d(channels, hidden, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)  # (B, C, h, w)


class FastDeblurGenerator(nn.Module):
    """U-shaped residual deblurrer: full -> 1/2 -> 1/4 res, inverted residuals, pixel-shuffle back up."""

    def __init__(self, width: int = 32, blocks: int = 8, expansion: int = 2):
        super().__init__()
        c1, c2, c4 = width // 2, width, width * 2
        act = nn.LeakyReLU(0.2, inplace=True)
        self.stem = nn.Sequential(nn.Conv2d(3, c1, 3, padding=1), act)                   # full res
        self.down1 = nn.Sequential(nn.Conv2d(c1, c2, 3, stride=2, padding=1), act)         # 1/2
        self.down2 = nn.Sequential(nn.Conv2d(c2, c4, 3, stride=2, padding=1), act)         # 1/4
        self.body = nn.Sequential(*[InvertedResidual(c4, expansion) for _ in range(blocks)])
        self.up2 = nn.Sequential(nn.Conv2d(c4, c2 * 4, 1), nn.PixelShuffle(2))             # 1/4 -> 1/2
        self.fuse2 = nn.Sequential(nn.Conv2d(c2, c2, 3, padding=1, groups=c2), nn.Conv2d(c2, c2, 1), act)
        self.up1 = nn.Sequential(nn.Conv2d(c2, c1 * 4, 1), nn.PixelShuffle(2))             # 1/2 -> full
        self.head = nn.Conv2d(c1, 3, 3, padding=1)
        nn.init.zeros_(self.head.weight)   # start as the identity: output = input
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1 = self.stem(x)                      # (B, c1, H, W)
        s2 = self.down1(s1)                    # (B, c2, H/2, W/2)
        s4 = self.body(self.down2(s2))         # (B, c4, H/4, W/4)
        u2 = self.fuse2(self.up2(s4) + s2)     # (B, c2, H/2, W/2)
        u1 = self.up1(u2) + s1                 # (B, c1, H, W)
        return torch.clamp(x + self.head(u1), 0.0, 1.0)


class ResNet9Generator(nn.Module):
    """DeblurGAN v1 generator (ngf=64, 9 blocks, instance norm), [0, 1] in and out."""

    def __init__(self, width: int = 64, blocks: int = 9):
        super().__init__()
        norm = lambda c: nn.InstanceNorm2d(c, affine=True)  # noqa: E731
        layers = [nn.ReflectionPad2d(3), nn.Conv2d(3, width, 7), norm(width), nn.ReLU(True)]
        for i in range(2):
            c = width * 2 ** i
            layers += [nn.Conv2d(c, c * 2, 3, stride=2, padding=1), norm(c * 2), nn.ReLU(True)]
        layers += [ResidualBlock(width * 4, norm="instance") for _ in range(blocks)]
        for i in range(2, 0, -1):
            c = width * 2 ** i
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1), norm(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, 3, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        signed = x * 2 - 1                                       # DeblurGAN works in [-1, 1]
        out = torch.clamp(signed + self.net(signed), -1.0, 1.0)  # global skip
        return (out + 1) / 2


def build_generator(cfg: DeblurModelConfig) -> nn.Module:
    if cfg.generator == "fast":
        return FastDeblurGenerator(cfg.width, cfg.blocks, cfg.expansion)
    if cfg.generator == "resnet9":
        return ResNet9Generator(cfg.width, cfg.blocks)
    raise ValueError(f"unknown deblur generator {cfg.generator!r}; use fast or resnet9")


def build_critic(cfg: DeblurModelConfig) -> nn.Module:
    """v1: one 70x70 PatchGAN (no norm: WGAN-GP penalises per-sample gradients); v2: two scales."""
    if cfg.critic == "patchgan":
        return PatchDiscriminator(3, cfg.d_width, cfg.d_layers, norm="none")
    if cfg.critic == "double_scale":
        return MultiScaleDiscriminator(2, in_channels=3, base_width=cfg.d_width, n_layers=cfg.d_layers, norm="instance")
    raise ValueError(f"unknown deblur critic {cfg.critic!r}; use patchgan or double_scale")
