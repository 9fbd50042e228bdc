"""Tiny real generators and a test head, shared by the export and runtime tests.

Loaded by file path (see `conftest.py`), since tests are not a package. The nets are
small but real: several 3x3 convolutions, a stride-2 down/up path (so the size
multiple is 2 and the receptive field is well over one pixel), BatchNorm and Dropout
(which eval-mode export must remove), a global skip, and PixelShuffle x2 and x4 variants.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_app.config import RunConfig
from gan_app.head import GraphInput, GraphSpec, Head


@dataclass
class TinyModel:
    kind: str = "conv"  # conv (scale 1) | sr / sr4 (PixelShuffle x2 / x4) | cond (latent + label -> 8x8 image) | steepen
    width: int = 8


@dataclass
class TinyData:
    path: str = "synthetic"


class ConvNet(nn.Module):
    """(B, 3, H, W) in [-1, 1] -> same shape; H, W even. Receptive field ~ 15 px."""

    def __init__(self, width: int, scale: int = 1):
        super().__init__()
        self.scale = scale
        self.inp = nn.Conv2d(3, width, 3, padding=1)
        self.bn = nn.BatchNorm2d(width)
        self.drop = nn.Dropout(0.3)
        self.down = nn.Conv2d(width, width, 4, stride=2, padding=1)
        self.mid = nn.Conv2d(width, width, 3, padding=1)
        self.up = nn.ConvTranspose2d(width, width, 4, stride=2, padding=1)
        self.out = nn.Conv2d(2 * width, 3 * scale * scale, 3, padding=1)
        with torch.no_grad():  # strong enough that the residual is far from zero (seams would show)
            self.out.weight.mul_(3.0)
            self.bn.running_mean.uniform_(-0.1, 0.1)
            self.bn.running_var.uniform_(0.5, 1.5)

    def forward(self, image):
        a = F.leaky_relu(self.drop(self.bn(self.inp(image))), 0.2)
        b = self.up(F.leaky_relu(self.mid(F.leaky_relu(self.down(a), 0.2)), 0.2))
        residual = self.out(torch.cat([a, b], dim=1))
        if self.scale > 1:
            residual = F.pixel_shuffle(residual, self.scale)
            image = F.interpolate(image, scale_factor=self.scale, mode="nearest")
        return torch.tanh(image + residual)


class EdgeSteepener(nn.Module):
    """A fixed 'deblurrer' whose range is known: x + 4 (x - mean_5x5(x)), clipped to [-1, 1].

    Edges softened over up to ~4 px come out steep; longer ramps stay soft. Parameter-free
    apart from the fixed box filter, so its behaviour at each pyramid level is predictable.
    """

    def __init__(self):
        super().__init__()
        self.box = nn.Conv2d(3, 3, 5, padding=2, groups=3, bias=False, padding_mode="replicate")
        nn.init.constant_(self.box.weight, 1 / 25)

    def forward(self, image):
        return torch.clamp(image + 4.0 * (image - self.box(image)), -1.0, 1.0)


class CondNet(nn.Module):
    """(z (B, 8), label (B,) int64) -> (B, 3, 8, 8) in [-1, 1]."""

    def __init__(self, width: int, classes: int = 3):
        super().__init__()
        self.embed = nn.Embedding(classes, 8)
        self.fc = nn.Linear(16, width * 16)
        self.conv = nn.Conv2d(width, 3, 3, padding=1)
        self.width = width

    def forward(self, z, label):
        h = self.fc(torch.cat([z, self.embed(label)], dim=1)).view(-1, self.width, 4, 4)
        return torch.tanh(self.conv(F.interpolate(F.relu(h), scale_factor=2.0, mode="nearest")))


_SCALES = {"sr": 2, "sr4": 4}


class TinyHead(Head):
    name = "tiny"
    summary = "test head"

    def model_config_cls(self):
        return TinyModel

    def data_config_cls(self):
        return TinyData

    def graph(self, cfg: TinyModel) -> GraphSpec:
        if cfg.kind == "cond":
            inputs = (GraphInput("z", "latent", ("B", 8)), GraphInput("label", "label", ("B",), "int64"))
            return GraphSpec(inputs=inputs, value_range=(-1.0, 1.0), extra={"class_names": ["cat", "dog", "owl"]})
        image = GraphInput("image", "image", ("B", 3, "H", "W"))
        return GraphSpec(inputs=(image,), value_range=(-1.0, 1.0), scale=_SCALES.get(cfg.kind, 1), size_multiple=2)

    def build(self, cfg: TinyModel):
        if cfg.kind == "cond":
            return CondNet(cfg.width), None
        if cfg.kind == "steepen":
            return EdgeSteepener(), None
        return ConvNet(cfg.width, scale=_SCALES.get(cfg.kind, 1)), None

    def example_inputs(self, cfg: TinyModel, batch: int, height: int, width: int) -> dict:
        if cfg.kind == "cond":
            return {"z": torch.randn(batch, 8), "label": torch.randint(0, 3, (batch,))}
        return {"image": torch.rand(batch, 3, height, width) * 2 - 1}

    def card_info(self, run: RunConfig) -> dict:
        return {"data": run.data.path, "losses": ["l1", "nonsaturating"]}


def tiny_run(kind: str = "conv", width: int = 8) -> RunConfig:
    return RunConfig(head="tiny", model=TinyModel(kind, width), data=TinyData())


def export_tiny(out: Path, kind: str = "conv", seed: int = 0, width: int = 8, **kwargs) -> dict:
    """Build a seeded tiny generator of `kind` and export it to `out`; returns the model card."""
    from gan_app.export import export_generator

    torch.manual_seed(seed)
    head, run = TinyHead(), tiny_run(kind, width)
    generator, _ = head.build(run.model)
    return export_generator(head, run, generator, out, **kwargs)

