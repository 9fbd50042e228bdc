"""Toy head configs (torch-free: the CLI imports them to build its commands)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ToyModelConfig:
    """Generator z -> (x, y) and discriminator (x, y) -> logit: MLPs of `depth` hidden layers."""

    z_dim: int = 2
    width: int = 128
    depth: int = 3


@dataclass
class ToyDataConfig:
    """The 2-D target distribution.

    ring: `modes` Gaussians of std `sigma` evenly spaced on a circle of `radius` (Metz et
    al. 2017: 8 modes, radius 2, sigma 0.02). sine: x ~ U(-x_range, x_range),
    y = sin(sine_w * x + sine_b) + N(0, sigma^2); its `modes` are equal-width x intervals.
    """

    kind: str = "ring"              # ring | sine
    size: int = 65_536              # training points, each paired with a fixed latent
    modes: int = 8
    radius: float = 2.0
    sigma: float = 0.02
    sine_w: float = 2.0
    sine_b: float = 0.0
    x_range: float = 2.0
