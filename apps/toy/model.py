"""Toy generator, discriminator and objective: fully connected nets on 2-D points."""

from __future__ import annotations

import torch
from torch import nn

from gan_app.train.objective import GanObjective

from .config import ToyDataConfig, ToyModelConfig
from .data import extent


def mlp(in_dim: int, out_dim: int, width: int, depth: int) -> nn.Sequential:
    """`depth` hidden layers of `width` ReLU units."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(in_dim if i == 0 else width, width), nn.ReLU()]
    layers.append(nn.Linear(width if depth else in_dim, out_dim))
    return nn.Sequential(*layers)


def build(cfg: ToyModelConfig) -> tuple[nn.Module, nn.Module]:
    """(G: (B, z_dim) -> (B, 2), D: (B, 2) -> (B, 1) logits)."""
    return mlp(cfg.z_dim, 2, cfg.width, cfg.depth), mlp(2, 1, cfg.width, cfg.depth)


def scatter_image(real: torch.Tensor, fake: torch.Tensor, half_width: float, size: int = 256) -> torch.Tensor:
    """Points drawn into a (3, size, size) picture in [0, 1]: real green, generated magenta.

    Where both fall on a pixel it is white. The square spans [-half_width, half_width]^2,
    y pointing up.
    """
    def occupancy(points: torch.Tensor) -> torch.Tensor:  # (size, size) in {0, 1}
        ij = ((points.float().cpu() + half_width) / (2 * half_width) * size).floor().long()  # (N, 2)
        ij = ij[((ij >= 0) & (ij < size)).all(1)]
        image = torch.zeros(size, size)
        image[size - 1 - ij[:, 1], ij[:, 0]] = 1.0
        return image

    real_img, fake_img = occupancy(real), occupancy(fake)
    return torch.stack([fake_img, real_img, fake_img])


class ToyObjective(GanObjective):
    """G(z) against the real points; the sample picture overlays 2,048 real and generated points."""

    sample_size = 2048

    def __init__(self, data: ToyDataConfig) -> None:
        self.half_width = extent(data)

    def generate(self, generator: nn.Module, batch: dict) -> torch.Tensor:
        return generator(batch["z"])  # (B, 2)

    def real(self, batch: dict) -> torch.Tensor:
        return batch["point"]  # (B, 2)

    def sample_rows(self, batch: dict, fake: torch.Tensor) -> list[torch.Tensor]:
        """The toy's rows are point sets, not images: (real, generated), each (B, 2)."""
        return [batch["point"], fake]

    def sample_grid(self, batch: dict, fake: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
        real, generated = self.sample_rows(batch, fake)
        return scatter_image(real, generated, self.half_width)
