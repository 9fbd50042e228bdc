"""The denoise head's configs and recipes: plain dataclasses, torch-free (`gan-app heads` reads them)."""

from __future__ import annotations

from dataclasses import dataclass

from gan_app.config import RunConfig, TrainConfig


@dataclass
class DenoiseModelConfig:
    """Everything that rebuilds the networks (and nothing else); stored in checkpoints and ONNX metadata."""

    width: int = 32           # channels of the generator's hidden convolutions
    depth: int = 5            # 3x3 convolutions in the generator (receptive field 2 * depth + 1)
    d_width: int = 32         # PatchGAN base width


@dataclass
class DenoiseLossConfig:
    """The loss weights and choices: a resumed run may change them, not the model config."""

    l1_weight: float = 100.0  # weight of the L1 term against the adversarial term


@dataclass
class DenoiseDataConfig:
    """Where clean images come from and how they are made noisy."""

    path: str = "photos"      # a folder of clean images, or "photos" (gan-app's offline photo set)
    crop: int = 64            # training crop, px
    sigma: float = 0.1        # std of the Gaussian noise, on the [0, 1] scale
    epoch_size: int = 1024    # random crops per epoch


RECIPES = {   # name -> one line for `gan-app heads`
    "default": "L1 x100 + the GAN loss on 64 px crops of the offline photos, 5,000 steps, EMA",
    "tiny": "seconds on CPU: what the tests train",
}


def recipe(name: str) -> RunConfig:
    """A complete run config by name."""
    if name == "default":
        return RunConfig("denoise", DenoiseModelConfig(), DenoiseDataConfig(),
                         TrainConfig(steps=5000, batch_size=16, lr_g=2e-4, lr_d=2e-4, ema_decay=0.999),
                         DenoiseLossConfig())
    if name == "tiny":    # 2 steps, 4-channel convs, 16 px crops
        return RunConfig("denoise", DenoiseModelConfig(width=4, depth=2, d_width=4),
                         DenoiseDataConfig(crop=16, epoch_size=4),
                         TrainConfig(steps=2, batch_size=2, lr_g=1e-3, log_every=1, sample_every=2,
                                     ckpt_every=2, ema_decay=0.0, amp="off"),
                         DenoiseLossConfig())
    raise KeyError(name)
