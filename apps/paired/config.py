"""Paired head configs (torch-free: recipes, the CLI and discovery import them).

`PairedModelConfig.name` is the name the trained model is exported and run under
(`gan-app train paired --name colorize` -> `gan-app run colorize photo.png`); it lives in
the model config so it travels in the checkpoint and in the ONNX metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gan_app.config import Range

PHOTO_TASKS = ("colorize", "denoise")   # `--data photos:TASK`: pairs built on the fly from the offline photos


@dataclass
class PairedModelConfig:
    """pix2pix generator/discriminator. Images are RGB or grey in [0, 1]."""

    name: str = "paired"            # the model's registry name (`--name`); "paired" = unnamed
    in_channels: int = 3            # A side: 3 (RGB) or 1 (grey, e.g. a colorizer)
    out_channels: int = 3           # B side
    width: int = 64                 # U-Net base width (pix2pix ngf)
    depth: int = field(default=8, metadata={"range": Range(1, 10)})  # U-Net downsamplings: inputs padded to
    #   multiples of 2**depth (8: pix2pix unet_256; 10: 1024, the most an exported model may ask)
    norm: str = "batch"             # batch | instance | none (batch: eval uses running statistics, tiling-safe)
    dropout: float = 0.5            # decoder dropout in training (off in the exported model)
    d_width: int = 64               # PatchGAN base width (pix2pix ndf)
    d_layers: int = 3               # 3: 70x70 patches


@dataclass
class PairedLossConfig:
    """The generator's content term, added to the adversarial one (`train.adv_weight`)."""

    content_loss: str = "l1"        # l1 | charbonnier | l2 | psnr (NAFNet's) | perceptual (VGG19, needs ImageNet weights)
    content_weight: float = 100.0   # pix2pix: lambda_L1 = 100
    vgg_weights: str = "imagenet"   # perceptual: the VGG19 weights, imagenet | PATH | random (offline experiments only)


@dataclass
class PairedDataConfig:
    """Where pairs come from.

    `path`: a folder with `A/` and `B/` (files matched by name), a folder of side-by-side
    A|B images (each twice as wide as tall), or `photos:colorize` / `photos:denoise` (pairs
    made on the fly from the offline training photos; the held-out photos are never used).
    """

    path: str = ""
    crop: int = 256                 # training crop (a multiple of 2**model.depth)
    flip: bool = True               # random horizontal flip of both sides
    noise: float = 0.1              # photos:denoise: std of the Gaussian noise on the [0, 1] scale
    epoch_size: int = 2048          # photos:*: samples per epoch
