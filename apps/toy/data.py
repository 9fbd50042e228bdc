"""Toy training data: 2-D points of the ring or sine distribution, each with a fixed latent.

Every point is paired with a latent vector drawn once when the set is made, so a batch
alone determines a training step (the step draws no random numbers). That makes a run
with W processes of batch B compute exactly what one process with batch W*B computes,
which the distributed-training test relies on. With 65,536 pairs the generator sees a
dense sample of its latent space; samples and metrics use fresh latents.
"""

from __future__ import annotations

import math

import torch
from torch.utils.data import Dataset

from .config import ToyDataConfig

KINDS = ("ring", "sine")


def check_kind(cfg: ToyDataConfig) -> None:
    from gan_app.errors import UserError

    if cfg.kind not in KINDS:
        raise UserError(f"unknown toy data {cfg.kind!r}; choose one of: {', '.join(KINDS)}")


def ring_centers(cfg: ToyDataConfig) -> torch.Tensor:
    """The mode centres on the circle, (modes, 2)."""
    angles = torch.arange(cfg.modes, dtype=torch.float64) * (2 * math.pi / cfg.modes)
    return (cfg.radius * torch.stack([angles.cos(), angles.sin()], 1)).float()


def sine_curve(x: torch.Tensor, cfg: ToyDataConfig) -> torch.Tensor:
    """The noise-free curve y(x) = sin(w x + b), same shape as `x`."""
    return torch.sin(cfg.sine_w * x + cfg.sine_b)


def sample_points(cfg: ToyDataConfig, n: int, generator: torch.Generator) -> torch.Tensor:
    """`n` points of the target distribution, (n, 2) float32."""
    check_kind(cfg)
    if cfg.kind == "ring":
        mode = torch.randint(cfg.modes, (n,), generator=generator)
        return ring_centers(cfg)[mode] + cfg.sigma * torch.randn(n, 2, generator=generator)
    x = (torch.rand(n, generator=generator) * 2 - 1) * cfg.x_range
    y = sine_curve(x, cfg) + cfg.sigma * torch.randn(n, generator=generator)
    return torch.stack([x, y], 1)


def extent(cfg: ToyDataConfig) -> float:
    """Half-width of a square that comfortably holds the data (for plots)."""
    return (cfg.radius if cfg.kind == "ring" else max(cfg.x_range, 1.0)) + 0.5


class ToyPoints(Dataset):
    """`size` items {"point": (2,), "z": (z_dim,)}; `__getitems__` returns whole batches.

    The batched getter is the engine's fast path for in-memory data: one tensor index per
    batch instead of `batch` Python item lookups and a collate.
    """

    def __init__(self, cfg: ToyDataConfig, z_dim: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.points = sample_points(cfg, cfg.size, generator)   # (N, 2)
        self.z = torch.randn(cfg.size, z_dim, generator=generator)  # (N, z_dim)

    def __len__(self) -> int:
        return self.points.shape[0]

    def __getitem__(self, index: int) -> dict:
        return {"point": self.points[index], "z": self.z[index]}

    def __getitems__(self, indices: list[int]) -> dict:
        idx = torch.as_tensor(indices)
        return {"point": self.points[idx], "z": self.z[idx]}
