"""Deblur generators and critics.

- `resnet9`: DeblurGAN v1 (Kupyn et al. 2018) generator: 7x7 stem, two stride-2
  downsamplings, 9 residual blocks at 256 channels (64 filters doubled twice), instance
  norm, two transposed-conv upsamplings, tanh and a global skip (output = clamp(input +
  residual)). Kept as the quality/speed reference.
- `fast` (default): our CPU-first design in the spirit of DeblurGAN-v2's FPN-MobileNet:
  the image is folded to 1/2**levels resolution with strided convs (channels doubling per
  level), processed by inverted residual blocks (depthwise 3x3 + pointwise, MobileNetV2),
  and unfolded with 2x2 stride-2 transposed convs (or, in models trained before that
  option, pixel shuffle; in GAN stages, checkerboard-free resize-convs) plus skip connections
  from each scale. No normalisation layers, so
  tiled inference gives the same pixels as whole-image inference; blocks start as the
  identity instead. One more level quarters the body's pixels, so at the same cost its blocks
  get 2x the channels and 2x the receptive field (what large shake kernels need).
- `naf`: a NAFNet-class U-Net (Chen et al. 2022): gated blocks (depthwise 3x3 + SimpleGate, then a gated
  1x1 feed-forward) at every scale, full resolution included, where fine edges are restored, and the
  body at 1/2**levels. Norm-free and without NAFNet's global channel attention, so it stays tile-exact
  (no statistics over the whole image) and exports to plain ONNX ops.

Both take and return (B, 3, H, W) images in [0, 1]; H and W must be multiples of
`size_multiple(cfg)` (4, or 2**levels for `fast` and `naf`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from gan_app.nn.blocks import ResidualBlock, ResizeConvUpsample
from gan_app.nn.patchgan import MultiScaleDiscriminator, PatchDiscriminator
from gan_app.nn.unet_critic import UNetDiscriminator


@dataclass
class DeblurModelConfig:
    """Architecture of a deblur model (stored in checkpoints/ONNX).

    The defaults are the first models' (levels 2, 8 blocks, shuffle), not the default recipe's: a file
    written before a field existed reads its default (`gan_app.config`), so recipes state their values."""

    generator: str = "fast"          # fast | naf | resnet9
    width: int = 32                  # fast: channels at 1/4 resolution = 2 * width; naf: at full res; resnet9: ngf (64)
    blocks: int = 8                  # fast, naf: blocks at the coarsest scale; resnet9: residual blocks (9)
    expansion: int = 2               # fast: inverted residual expansion factor; naf: gate expansion
    levels: int = 2                  # fast: stride-2 levels before the body (2: 1/4 res, 3: 1/8 res)
    upsample: str = "shuffle"        # fast: shuffle (1x1 conv + pixel shuffle) | transpose (2x2 stride-2 transposed conv)
                                     # | resize (1x1 conv, nearest 2x, depthwise 3x3: no checkerboard, for GAN stages)
    scale_blocks: int = 0            # fast: inverted residual blocks after the fusion at each scale between body and full res;
                                     # naf: gated blocks at every finer scale, before the downsampling and after the fusion
    full_blocks: int = 0             # fast: inverted residual blocks at full resolution after the last fusion (refine1)
    critic: str = "patchgan"         # patchgan (v1: WGAN-GP) | double_scale (v2: RaLSGAN, 2 scales)
                                     # | unet (Real-ESRGAN's per-pixel spectral-norm critic; d_layers = its depth)
    critic_sees_blurred: bool = False   # conditional critic (pix2pix): it judges (blurred, image) pairs
    d_width: int = 64
    d_layers: int = 3


@dataclass
class DeblurLossConfig:
    """The generator's content terms, added to the adversarial one (`train.adv_weight`)."""

    content_loss: str = "charbonnier"   # charbonnier | l1 | l2 | psnr (NAFNet's) | perceptual (VGG19 conv3_3, needs ImageNet weights)
    content_weight: float = 100.0       # DeblurGAN v1 uses 100 x content + 1 x adversarial
    fft_weight: float = 0.0             # frequency L1 (MIMO-UNet's FFT term), e.g. 10 = 0.1 x the content weight
    vgg_weights: str = "imagenet"       # perceptual: the VGG19 weights, imagenet | PATH | random (offline experiments only)


def zero_init(conv: nn.Conv2d) -> None:
    """Zero a layer's weight and bias: the residual branch (or head) it ends adds nothing at the start."""
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)


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
        zero_init(self.body[-1])   # each block starts as the identity, so a deep norm-free body
                                   # trains at a high learning rate (SkipInit, De & Smith 2020)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)  # (B, C, h, w)


def _upsampler(in_channels: int, out_channels: int, kind: str) -> nn.Module:
    """2x upsampling (B, in, h, w) -> (B, out, 2h, 2w).

    Both kinds map each low-res pixel to its own 2x2 output patch by a linear map; `transpose`
    has one bias per channel instead of per patch position. ONNX Runtime's CPU DepthToSpace
    (what pixel shuffle exports to) is slow: with `transpose` the default model takes 0.75x
    the time at 1280x720 (`benchmarks/deblur.py speed`), hence `transpose` for new models.
    Both can draw a 2-px checkerboard on flat areas (four independent phases), which an adversarial
    term rewards; `resize` cannot (`ResizeConvUpsample`) and loads `transpose` weights, so GAN stages use it.
    """
    if kind == "transpose":
        return nn.ConvTranspose2d(in_channels, out_channels, 2, stride=2)
    if kind == "resize":
        return ResizeConvUpsample(in_channels, out_channels)
    return nn.Sequential(nn.Conv2d(in_channels, out_channels * 4, 1), nn.PixelShuffle(2))


class FastDeblurGenerator(nn.Module):
    """U-shaped residual deblurrer: full -> 1/2 -> ... -> 1/2**levels res, inverted residuals, 2x upsamplings back up.

    Channels are width/2 at full resolution and double per level. Module names of the two-level
    model (stem, down1, down2, body, up2, fuse2, up1, head) are kept by every depth, so its
    checkpoints load unchanged; a third level adds down3, up3 and fuse4. `scale_blocks` > 0 adds
    refine{s} (identity-initialised blocks after each fusion at 1/s resolution, s < 2**levels) and
    `full_blocks` > 0 adds refine1 at full resolution, so a model without them can start a model with
    them (`train.init_from`) and compute the same function.
    """

    def __init__(self, width: int = 32, blocks: int = 8, expansion: int = 2, levels: int = 2,
                 upsample: str = "shuffle", scale_blocks: int = 0, full_blocks: int = 0):
        super().__init__()
        if levels not in (2, 3, 4):
            raise ValueError(f"fast generator levels must be 2, 3 or 4, got {levels}")
        if upsample not in ("shuffle", "transpose", "resize"):
            raise ValueError(f"fast generator upsample must be shuffle, transpose or resize, got {upsample!r}")
        self.levels = levels
        ch = [width // 2 * 2 ** i for i in range(levels + 1)]  # channels at 1, 1/2, 1/4 (, 1/8, 1/16)
        act = nn.LeakyReLU(0.2, inplace=True)
        self.stem = nn.Sequential(nn.Conv2d(3, ch[0], 3, padding=1), act)
        for i in range(1, levels + 1):   # down{i}: 1/2**(i-1) -> 1/2**i
            self.add_module(f"down{i}", nn.Sequential(nn.Conv2d(ch[i - 1], ch[i], 3, stride=2, padding=1), act))
        self.body = nn.Sequential(*[InvertedResidual(ch[-1], expansion) for _ in range(blocks)])
        for i in range(levels, 0, -1):   # up{i}: 1/2**i -> 1/2**(i-1), then fuse with that scale's skip
            self.add_module(f"up{i}", _upsampler(ch[i], ch[i - 1], upsample))
            if i > 1:
                c = ch[i - 1]
                self.add_module(f"fuse{2 ** (i - 1)}", nn.Sequential(nn.Conv2d(c, c, 3, padding=1, groups=c),
                                                                    nn.Conv2d(c, c, 1), act))
                if scale_blocks:   # restoring edges needs work at the finer scales too (NAFNet's decoder)
                    self.add_module(f"refine{2 ** (i - 1)}",
                                    nn.Sequential(*[InvertedResidual(c, expansion) for _ in range(scale_blocks)]))
        if full_blocks:   # where the finest edges are restored; identity-initialised, so older checkpoints start it
            self.refine1 = nn.Sequential(*[InvertedResidual(ch[0], expansion) for _ in range(full_blocks)])
        self.head = nn.Conv2d(ch[0], 3, 3, padding=1)
        zero_init(self.head)   # start as the identity: output = input

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.stem(x)]                                     # (B, ch0, H, W)
        for i in range(1, self.levels + 1):
            skips.append(getattr(self, f"down{i}")(skips[-1]))     # (B, ch_i, H/2**i, W/2**i)
        y = self.body(skips.pop())                                 # (B, ch_L, H/2**L, W/2**L)
        for i in range(self.levels, 1, -1):
            y = getattr(self, f"fuse{2 ** (i - 1)}")(getattr(self, f"up{i}")(y) + skips.pop())   # (B, ch, H/2**(i-1), ..)
            y = self._refined(y, 2 ** (i - 1))
        y = self._refined(self.up1(y) + skips.pop(), 1)            # (B, ch0, H, W)
        return torch.clamp(x + self.head(y), 0.0, 1.0)

    def _refined(self, y: torch.Tensor, s: int) -> torch.Tensor:
        """y through refine{s}, the blocks at 1/s resolution, where the model has them; (B, C, h, w) both ways."""
        refine = getattr(self, f"refine{s}", None)
        return y if refine is None else refine(y)


class SimpleGate(nn.Module):
    """NAFNet's activation: split the channels in two halves and multiply them, (B, 2C, h, w) -> (B, C, h, w)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


class GatedBlock(nn.Module):
    """NAFNet block without LayerNorm and channel attention: x + 1x1(SG(dw3x3(1x1(x)))), then y + 1x1(SG(1x1(y))).

    Both branches end in a zero-initialised 1x1, so the block starts as the identity (NAFNet's beta/gamma = 0),
    which is what lets it train without normalisation. (B, C, h, w) -> (B, C, h, w).
    """

    def __init__(self, channels: int, expansion: int = 2):
        super().__init__()
        hidden = channels * expansion
        self.spatial = nn.Sequential(nn.Conv2d(channels, hidden, 1), nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden),
                                     SimpleGate(), nn.Conv2d(hidden // 2, channels, 1))
        self.channel = nn.Sequential(nn.Conv2d(channels, hidden, 1), SimpleGate(), nn.Conv2d(hidden // 2, channels, 1))
        for branch in (self.spatial, self.channel):
            zero_init(branch[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x + self.spatial(x)
        return y + self.channel(y)


class NAFDeblurGenerator(nn.Module):
    """NAFNet-class U-Net: stem -> [gated blocks, 2x2 stride-2 down] x levels -> body -> [2x2 transposed up,
    + skip, gated blocks] x levels -> head, output = clamp(input + head).

    Channels are `width` at full resolution and double per level; `scale_blocks` gated blocks sit at every
    scale finer than the body on both sides, `blocks` in the body. (B, 3, H, W) -> (B, 3, H, W), [0, 1].
    """

    def __init__(self, width: int = 16, blocks: int = 4, scale_blocks: int = 1, levels: int = 3, expansion: int = 2):
        super().__init__()
        if levels not in (2, 3, 4):
            raise ValueError(f"naf generator levels must be 2, 3 or 4, got {levels}")
        ch = [width * 2 ** i for i in range(levels + 1)]
        stack = lambda c, n: nn.Sequential(*[GatedBlock(c, expansion) for _ in range(n)])  # noqa: E731
        self.stem = nn.Conv2d(3, ch[0], 3, padding=1)
        self.encoders = nn.ModuleList(stack(ch[i], scale_blocks) for i in range(levels))
        self.downs = nn.ModuleList(nn.Conv2d(ch[i], ch[i + 1], 2, stride=2) for i in range(levels))
        self.body = stack(ch[-1], blocks)
        self.ups = nn.ModuleList(nn.ConvTranspose2d(ch[i + 1], ch[i], 2, stride=2) for i in range(levels))
        self.decoders = nn.ModuleList(stack(ch[i], scale_blocks) for i in range(levels))
        self.head = nn.Conv2d(ch[0], 3, 3, padding=1)
        zero_init(self.head)   # start as the identity: output = input

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, skips = self.stem(x), []                                  # (B, ch0, H, W)
        for encode, down in zip(self.encoders, self.downs):
            y = encode(y)
            skips.append(y)                                          # (B, ch_i, H/2**i, W/2**i)
            y = down(y)
        y = self.body(y)                                             # (B, ch_L, H/2**L, W/2**L)
        for i in reversed(range(len(self.ups))):
            y = self.decoders[i](self.ups[i](y) + skips[i])
        return torch.clamp(x + self.head(y), 0.0, 1.0)


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


def size_multiple(cfg: DeblurModelConfig) -> int:
    """Image sides the generator takes: every stride-2 level must halve them exactly."""
    return 2 ** cfg.levels if cfg.generator in ("fast", "naf") else 4


def build_generator(cfg: DeblurModelConfig) -> nn.Module:
    if cfg.generator == "fast":
        return FastDeblurGenerator(cfg.width, cfg.blocks, cfg.expansion, cfg.levels, cfg.upsample, cfg.scale_blocks,
                                   cfg.full_blocks)
    if cfg.generator == "naf":
        return NAFDeblurGenerator(cfg.width, cfg.blocks, cfg.scale_blocks, cfg.levels, cfg.expansion)
    if cfg.generator == "resnet9":
        return ResNet9Generator(cfg.width, cfg.blocks)
    raise ValueError(f"unknown deblur generator {cfg.generator!r}; use fast, naf or resnet9")


def build_critic(cfg: DeblurModelConfig) -> nn.Module:
    """v1: one 70x70 PatchGAN (no norm: WGAN-GP penalises per-sample gradients); v2: two scales; unet: per pixel.

    With `critic_sees_blurred` it takes the blurred input and the image on 6 channels (the objective
    concatenates them), so it can reject detail that the input does not support."""
    channels = 6 if cfg.critic_sees_blurred else 3
    if cfg.critic == "patchgan":
        return PatchDiscriminator(channels, cfg.d_width, cfg.d_layers, norm="none")
    if cfg.critic == "double_scale":
        return MultiScaleDiscriminator(2, in_channels=channels, base_width=cfg.d_width, n_layers=cfg.d_layers, norm="instance")
    if cfg.critic == "unet":
        return UNetDiscriminator(channels, cfg.d_width, cfg.d_layers, spectral=True)
    raise ValueError(f"unknown deblur critic {cfg.critic!r}; use patchgan, double_scale or unet")
