"""Convolutional building blocks: conv-norm-act, residual, pixel-shuffle and resize-conv upsamplers.

Every block is fully convolutional (any H, W) and exports to ONNX in eval mode.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .norm import is_conditional, make_act, make_norm
from .spectral import maybe_spectral


class ConvNormAct(nn.Module):
    """conv (or transposed conv) -> norm -> activation.

    `padding=None` keeps "same"-style sizes: (k - 1) // 2 for a conv (H / stride out for even k
    with stride 2), (k - stride) // 2 for a transposed conv (H * stride out). The conv has a
    bias only when `norm="none"` (a norm's shift makes it redundant). With `norm="cbn"` (needs
    `num_classes`), call `block(x, labels)`. x (B, in, H, W) -> (B, out, H', W').
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        norm: str = "batch",
        act: str = "relu",
        spectral: bool = False,
        padding: int | None = None,
        padding_mode: str = "zeros",
        groups: int = 1,
        transposed: bool = False,
        num_classes: int = 0,
    ):
        super().__init__()
        bias = norm == "none"
        if transposed:
            pad = (kernel_size - stride) // 2 if padding is None else padding
            conv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride, pad, groups=groups, bias=bias)
        else:
            pad = (kernel_size - 1) // 2 if padding is None else padding
            conv = nn.Conv2d(
                in_channels, out_channels, kernel_size, stride, pad, groups=groups, bias=bias, padding_mode=padding_mode
            )
        self.conv = maybe_spectral(conv, spectral)
        self.norm = make_norm(norm, out_channels, num_classes)
        self.act = make_act(act)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self.conv(x)
        x = self.norm(x, labels) if is_conditional(self.norm) else self.norm(x)
        return self.act(x)


class ResidualBlock(nn.Module):
    """ResNet block of CycleGAN / DeblurGAN generators: x + res_scale * (conv-norm-act-[drop]-conv-norm)(x).

    Reflect padding avoids border artefacts in image-to-image generators; `res_scale < 1`
    (e.g. 0.1, EDSR/ESRGAN) steadies deep stacks without norm. No activation after the sum.
    x (B, C, H, W) -> (B, C, H, W).
    """

    def __init__(
        self,
        channels: int,
        norm: str = "instance",
        kernel_size: int = 3,
        padding_mode: str = "reflect",
        dropout: float = 0.0,
        activation: str = "relu",
        res_scale: float = 1.0,
    ):
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"ResidualBlock needs an odd kernel_size to keep H, W; got {kernel_size}")
        conv = dict(kernel_size=kernel_size, stride=1, norm=norm, padding_mode=padding_mode)
        self.body = nn.Sequential(
            ConvNormAct(channels, channels, act=activation, **conv),
            nn.Dropout(dropout) if dropout > 0 else nn.Identity(),
            ConvNormAct(channels, channels, act="none", **conv),
        )
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.body(x)


def _icnr_(conv: nn.Conv2d, scale: int) -> None:
    """ICNR init (Aitken et al. 2017) for a conv feeding PixelShuffle(scale).

    All scale**2 sub-kernels of an output channel start equal, so at init conv+shuffle equals
    conv then nearest-neighbour upsampling: no checkerboard pattern at the start of training.
    Hand-written because torch has no ICNR initialiser.
    """
    out_ch = conv.out_channels // scale**2
    base = torch.empty(out_ch, *conv.weight.shape[1:])
    nn.init.kaiming_normal_(base, nonlinearity="relu")
    with torch.no_grad():
        conv.weight.copy_(base.repeat_interleave(scale**2, dim=0))
        if conv.bias is not None:
            conv.bias.copy_(conv.bias[::scale**2].repeat_interleave(scale**2))


class PixelShuffleUpsample(nn.Module):
    """Sub-pixel upsampler (Shi et al. 2016): conv 3x3 -> PixelShuffle -> activation, per stage.

    scale 2 or 3 is one stage; scale 4 is two x2 stages (as in SRGAN/EDSR). Convs use ICNR init.
    x (B, in_channels, H, W) -> (B, out_channels, scale * H, scale * W); out_channels defaults to
    in_channels.
    """

    SCALES = (2, 3, 4)

    def __init__(self, in_channels: int, scale: int, out_channels: int | None = None, activation: str = "relu"):
        super().__init__()
        if scale not in self.SCALES:
            raise ValueError(f"scale must be one of {self.SCALES}, got {scale}")
        out_channels = out_channels or in_channels
        factors = [2, 2] if scale == 4 else [scale]
        stages = []
        ch = in_channels
        for r in factors:
            conv = nn.Conv2d(ch, out_channels * r * r, 3, padding=1)
            _icnr_(conv, r)
            stages += [conv, nn.PixelShuffle(r), make_act(activation)]
            ch = out_channels
        self.body = nn.Sequential(*stages)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ResizeConvUpsample(nn.Module):
    """2x upsampling free of the checkerboard (Odena et al. 2016's resize-conv), cheap on CPU.

    1x1 conv (in -> out channels) at low resolution, nearest 2x, depthwise 3x3 at high resolution
    (identity at init). The channel mix runs on a quarter of the pixels; the depthwise conv gives
    each output pixel its own blend of neighbours. Unlike a 2x2 stride-2 transposed conv (one weight
    per output phase), a flat input gives a flat output at every phase: no checkerboard on smooth
    areas (what session 8's deblur GAN stage drew). It does not stop a critic from inventing texture
    where the input has some (session 12's stage still did, docs/benchmarks.md).

    A 2x2 stride-2 transposed conv's weights load into it (`weight` (in, out, 2, 2), `bias` (out,)):
    the 1x1 conv takes their mean over the four phases and the depthwise conv stays the identity,
    the same function on input that is smooth at the low resolution, so a model trained with
    transposed convs can start one with resize-convs (`train.init_from`) and fine-tune from there.
    x (B, in, h, w) -> (B, out, 2h, 2w).
    """

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.mix = nn.Conv2d(in_channels, out_channels, 1)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.smooth = nn.Conv2d(out_channels, out_channels, 3, padding=1, groups=out_channels)
        with torch.no_grad():
            self.smooth.weight.copy_(self._identity_kernel(out_channels))
            self.smooth.bias.zero_()
        self.register_load_state_dict_pre_hook(self._from_transposed_conv)

    @staticmethod
    def _identity_kernel(channels: int) -> torch.Tensor:
        kernel = torch.zeros(channels, 1, 3, 3)
        kernel[:, :, 1, 1] = 1.0
        return kernel

    def _from_transposed_conv(self, module, state_dict, prefix, *args) -> None:
        weight = state_dict.get(prefix + "weight")
        if weight is None or tuple(weight.shape) != (self.mix.in_channels, self.mix.out_channels, 2, 2):
            return
        state_dict.pop(prefix + "weight")
        state_dict[prefix + "mix.weight"] = weight.mean(dim=(2, 3)).t()[:, :, None, None].contiguous()  # (out, in, 1, 1)
        state_dict[prefix + "mix.bias"] = state_dict.pop(prefix + "bias")
        state_dict[prefix + "smooth.weight"] = self._identity_kernel(self.mix.out_channels).to(weight.dtype)
        state_dict[prefix + "smooth.bias"] = torch.zeros(self.mix.out_channels, dtype=weight.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.smooth(self.up(self.mix(x)))
