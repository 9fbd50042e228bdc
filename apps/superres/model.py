"""Super-resolution generators (x2, x3, x4) and the discriminator.

- `fast` (default, ours, CPU-first): every convolution runs at low resolution; the only
  full-resolution op is one pixel shuffle. A short stack of plain residual blocks (no
  norm) feeds a 3x3 conv to 3 * scale**2 channels (ESPCN's sub-pixel layer) that
  predicts a residual over bicubic interpolation; the bicubic upsample itself is a fixed
  5x5 conv to the same 3 * scale**2 phases (`BicubicPhases`), so both share that shuffle.
  The sub-pixel conv starts at zero: an untrained model IS bicubic interpolation (zero is
  also a degenerate ICNR init: all sub-kernels equal, so no checkerboard at the start),
  and training only has to learn the missing detail (VDSR's global residual idea). Each
  residual block starts as the identity too, so a deeper model can start from a shallower
  one's weights (`train.init_from`) and compute the same function before it trains; a model
  of another scale loads too (`subpixel_for_scale`: an x2 net from an x4 one starts as its
  residual box-downscaled), so the body learnt at one scale starts the other.
  Why not `F.interpolate(mode="bicubic")` in the graph: ONNX Runtime's cubic Resize
  alone takes ~0.25 s for 320x180 -> 1280x720 on 2 threads, half the speed budget.
- `srresnet`: SRGAN's generator (Ledig et al. 2017): 9x9 stem + PReLU, `blocks` residual
  blocks conv-BN-PReLU-conv-BN, conv-BN + long skip, pixel-shuffle x2 stages with
  PReLU, 9x9 output conv. 16 blocks x 64 filters is the paper's size and the speed reference.
- `rrdb`: ESRGAN's RRDBNet (Wang et al. 2018): residual-in-residual dense blocks
  (5 convs, growth 32, residual scaling 0.2, no BN), trunk conv + long skip, nearest x2
  upsampling + conv stages, two output convs.

Every generator maps (B, 3, h, w) in [0, 1] to (B, 3, h * scale, w * scale), unclipped
in training; in eval mode the output is clamped to [0, 1]. No normalisation depends on
the batch at inference (BN runs on its running statistics), so tiles match whole images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from gan_app.nn.blocks import PixelShuffleUpsample, ResidualBlock
from gan_app.nn.patchgan import PatchDiscriminator
from gan_app.nn.unet_critic import UNetDiscriminator

SCALES = (2, 3, 4)
GENERATORS = ("fast", "srresnet", "rrdb")


@dataclass
class SRModelConfig:
    """Architecture of a super-resolution model (stored in checkpoints/ONNX)."""

    generator: str = "fast"            # fast | srresnet | rrdb
    scale: int = 4                     # 2 | 3 | 4
    width: int = 32                    # feature channels at low resolution (srresnet/rrdb: 64)
    blocks: int = 6                    # residual blocks (srresnet: 16; rrdb: RRDBs, 23 in ESRGAN)
    growth: int = 32                   # rrdb: dense-block growth channels
    critic: str = "patchgan"           # patchgan (spectral norm) | unet (Real-ESRGAN's per-pixel SN critic)
    d_width: int = 64                  # discriminator base width
    d_layers: int = 3                  # patchgan: strided layers; unet: depth (stride-2 levels)


@dataclass
class SRLossConfig:
    """The generator's content terms (ESRGAN's), added to the adversarial one (`train.adv_weight`)."""

    l1_weight: float = 1.0             # pixel L1 content term
    psnr_weight: float = 0.0           # minus the per-image PSNR (NAFNet's loss); ~0.0013 gives L1 x1's gradient norm
    perceptual_weight: float = 0.0     # VGG19 conv5_4 term (ESRGAN: 1.0 with L1 x0.01); needs ImageNet weights
    vgg_weights: str = "imagenet"      # the perceptual term's VGG19 weights: imagenet | PATH | random (offline experiments only)


def _check(cfg: SRModelConfig) -> None:
    if cfg.scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {cfg.scale}")
    if cfg.generator not in GENERATORS:
        raise ValueError(f"unknown super-resolution generator {cfg.generator!r}; use one of {GENERATORS}")


def _cubic(t: torch.Tensor, a: float = -0.75) -> torch.Tensor:
    """Keys' cubic convolution kernel with torch's a = -0.75, at distances `t`."""
    t = t.abs()
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return torch.where(t <= 1, near, torch.where(t < 2, far, torch.zeros_like(t)))


class BicubicPhases(nn.Module):
    """Bicubic x`scale` upsampling as a fixed conv: (B, 3, h, w) -> (B, 3 * scale**2, h, w) phases.

    Followed by PixelShuffle(scale) it equals `F.interpolate(x, scale_factor=scale,
    mode="bicubic", align_corners=False)` exactly, borders included (replicate padding
    is torch's index clamping). Output phase (i, j) of a pixel samples the input at
    offsets ((i + 0.5) / scale - 0.5, (j + 0.5) / scale - 0.5), whose 4 cubic taps per
    axis all fall within +-2 pixels: hence one 5x5 kernel per phase.
    """

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale
        offsets = (torch.arange(scale, dtype=torch.float64) + 0.5) / scale - 0.5     # (s,)
        taps = torch.arange(-2, 3, dtype=torch.float64)                              # (5,)
        weights = _cubic(taps[None, :] - offsets[:, None])                           # (s, 5)
        kernel = weights[:, None, :, None] * weights[None, :, None, :]               # (s, s, 5, 5)
        kernel = kernel.reshape(scale * scale, 1, 5, 5).repeat(3, 1, 1, 1)           # (3*s*s, 1, 5, 5)
        self.register_buffer("kernel", kernel.float(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x, (2, 2, 2, 2), mode="replicate")                            # (B, 3, h+4, w+4)
        return F.conv2d(padded, self.kernel, groups=3)                               # (B, 3*s*s, h, w)


def subpixel_for_scale(tensor: torch.Tensor, scale: int) -> torch.Tensor | None:
    """A sub-pixel conv weight or bias (3 * S * S, ...) of a model of scale S, as (3 * s * s, ...) for `scale` s.

    Pixel shuffle puts channel c * S * S + i * S + j at row offset i, column offset j of each output block.
    S a multiple of s: each s-phase is the mean of the (S/s)^2 S-phases it covers, so the residual comes out
    box-downscaled; s a multiple of S: each S-phase is repeated over the s-phases it covers (the residual
    nearest-upsampled). None when neither divides the other.
    """
    rest = tuple(tensor.shape[1:])
    source = round((tensor.shape[0] / 3) ** 0.5)
    if 3 * source * source != tensor.shape[0]:
        return None
    phases = tensor.reshape(3, source, source, *rest)
    if source % scale == 0:
        k = source // scale
        phases = phases.reshape(3, scale, k, scale, k, *rest).mean(dim=(2, 4))
    elif scale % source == 0:
        k = scale // source
        phases = phases.repeat_interleave(k, dim=1).repeat_interleave(k, dim=2)
    else:
        return None
    return phases.reshape(3 * scale * scale, *rest)


class FastSR(nn.Module):
    """Bicubic upsample + a residual predicted at low resolution, both through one pixel shuffle."""

    def __init__(self, scale: int, width: int = 32, blocks: int = 4):
        super().__init__()
        self.bicubic = BicubicPhases(scale)
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(*[ResidualBlock(width, norm="none", padding_mode="zeros") for _ in range(blocks)])
        for block in self.body:   # each block starts as the identity (SkipInit), so a deeper model started from a
            last = block.body[-1].conv          # shallower one's weights (`train.init_from`) computes the same function
            nn.init.zeros_(last.weight)
            nn.init.zeros_(last.bias)
        self.subpixel = nn.Conv2d(width, 3 * scale * scale, 3, padding=1)
        nn.init.zeros_(self.subpixel.weight)   # starts as exact bicubic interpolation
        nn.init.zeros_(self.subpixel.bias)
        self.shuffle = nn.PixelShuffle(scale)
        self.register_load_state_dict_pre_hook(self._subpixel_of_another_scale)

    def _subpixel_of_another_scale(self, module, state_dict, prefix, *args) -> None:
        """Loading a state of another scale (`train.init_from` an x4 model into an x2 run): its sub-pixel conv is
        converted by `subpixel_for_scale`; every other tensor is scale-free. Other mismatches stay errors."""
        scale = self.shuffle.upscale_factor
        for key in (prefix + "subpixel.weight", prefix + "subpixel.bias"):
            tensor = state_dict.get(key)
            if tensor is not None and tensor.shape[0] != 3 * scale * scale:
                converted = subpixel_for_scale(tensor, scale)
                if converted is not None:
                    state_dict[key] = converted

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.stem(x)                                   # (B, C, h, w)
        feats = feats + self.body(feats)                       # (B, C, h, w)
        phases = self.bicubic(x) + self.subpixel(feats)        # (B, 3*s*s, h, w)
        out = self.shuffle(phases)                             # (B, 3, sh, sw)
        return out if self.training else out.clamp(0.0, 1.0)


class SRResNet(nn.Module):
    """SRGAN's generator, [0, 1] in and out (the paper feeds [0, 1] and outputs via tanh to [-1, 1])."""

    def __init__(self, scale: int, width: int = 64, blocks: int = 16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 9, padding=4), nn.PReLU())
        self.body = nn.Sequential(
            *[ResidualBlock(width, norm="batch", padding_mode="zeros", activation="prelu") for _ in range(blocks)],
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
        )
        self.up = PixelShuffleUpsample(width, scale, activation="prelu")
        self.out = nn.Conv2d(width, 3, 9, padding=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.stem(x)                                   # (B, C, h, w)
        out = self.out(self.up(feats + self.body(feats)))      # (B, 3, sh, sw)
        return out if self.training else out.clamp(0.0, 1.0)


class DenseBlock(nn.Module):
    """ESRGAN's residual dense block: 5 convs, each seeing all earlier features; x + 0.2 * out."""

    def __init__(self, width: int, growth: int):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(width + k * growth, growth if k < 4 else width, 3, padding=1) for k in range(5))
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for k, conv in enumerate(self.convs):
            y = conv(torch.cat(feats, dim=1))                  # (B, growth or width, h, w)
            if k < 4:
                feats.append(self.act(y))
        return x + 0.2 * y


class RRDB(nn.Module):
    """Residual-in-residual dense block: three dense blocks, x + 0.2 * out."""

    def __init__(self, width: int, growth: int):
        super().__init__()
        self.body = nn.Sequential(*[DenseBlock(width, growth) for _ in range(3)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.2 * self.body(x)


class RRDBNet(nn.Module):
    """ESRGAN's generator; upsampling by nearest x2 (x3) + conv + LeakyReLU per stage, as the paper."""

    def __init__(self, scale: int, width: int = 64, blocks: int = 23, growth: int = 32):
        super().__init__()
        self.stem = nn.Conv2d(3, width, 3, padding=1)
        self.body = nn.Sequential(*[RRDB(width, growth) for _ in range(blocks)], nn.Conv2d(width, width, 3, padding=1))
        self.factors = [2, 2] if scale == 4 else [scale]
        self.ups = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1) for _ in self.factors)
        self.hr = nn.Conv2d(width, width, 3, padding=1)
        self.out = nn.Conv2d(width, 3, 3, padding=1)
        self.act = nn.LeakyReLU(0.2, inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.stem(x)
        feats = feats + self.body(feats)                       # (B, C, h, w)
        for factor, conv in zip(self.factors, self.ups):
            feats = self.act(conv(F.interpolate(feats, scale_factor=factor, mode="nearest")))
        out = self.out(self.act(self.hr(feats)))               # (B, 3, sh, sw)
        return out if self.training else out.clamp(0.0, 1.0)


def build_generator(cfg: SRModelConfig) -> nn.Module:
    """The generator `cfg.generator` at `cfg.scale`."""
    _check(cfg)
    if cfg.generator == "fast":
        return FastSR(cfg.scale, cfg.width, cfg.blocks)
    if cfg.generator == "srresnet":
        return SRResNet(cfg.scale, cfg.width, cfg.blocks)
    return RRDBNet(cfg.scale, cfg.width, cfg.blocks, cfg.growth)


def build_discriminator(cfg: SRModelConfig) -> nn.Module:
    """A spectrally normalised PatchGAN on HR images: patch logits for the relativistic game.

    ESRGAN uses a VGG-style global critic on 128px crops; a patch critic works on any crop
    size and its logits average the same way in the relativistic loss. `unet`: Real-ESRGAN's
    critic, one logit per HR pixel.
    """
    if cfg.critic == "patchgan":
        return PatchDiscriminator(3, cfg.d_width, cfg.d_layers, norm="none", spectral=True)
    if cfg.critic == "unet":
        return UNetDiscriminator(3, cfg.d_width, cfg.d_layers, spectral=True)
    raise ValueError(f"unknown super-resolution critic {cfg.critic!r}; use patchgan or unet")
