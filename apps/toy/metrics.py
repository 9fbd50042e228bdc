"""Mode coverage and sample quality of a toy generator.

Definitions (fixed, so runs are comparable):
- a sample is *high quality* when it lies within 3 sigma of the data: for the ring, at
  Euclidean distance <= 3 sigma from the nearest mode centre (Metz et al.); for the sine,
  at vertical distance <= 3 sigma from the curve with |x| <= x_range. A real sample passes
  with probability 99% (ring, 1 - exp(-4.5)) or 99.7% (sine).
- a mode is *covered* when at least 1% of all samples are high-quality samples of that
  mode (a perfect generator puts 1/modes = 12.5% there). Sine modes are the `modes`
  equal-width intervals of x.
"""

from __future__ import annotations

import torch

from .config import ToyDataConfig
from .data import check_kind, ring_centers, sine_curve

COVER_FRACTION = 0.01
PROTOCOL = (
    "{n} generated points from fresh N(0, I) latents; high quality = within 3 sigma of the data "
    "(ring: of the nearest mode centre; sine: vertically of the curve); a mode is covered when "
    ">= 1% of all points are high-quality points of it (ring modes: the Gaussians; sine modes: "
    "equal x intervals)"
)


def toy_metrics(points: torch.Tensor, cfg: ToyDataConfig) -> dict:
    """{"modes_covered", "modes", "high_quality", "per_mode", "protocol"} for `points`, (N, 2)."""
    check_kind(cfg)
    if points.dim() != 2 or points.shape[1] != 2:
        raise ValueError(f"expected (N, 2) points, got {tuple(points.shape)}")
    points = points.float()
    n = points.shape[0]
    tol = 3 * cfg.sigma
    if cfg.kind == "ring":
        dist, mode = torch.cdist(points, ring_centers(cfg)).min(1)  # (N,), (N,)
        good = dist <= tol
    else:
        x, y = points.unbind(1)
        good = (x.abs() <= cfg.x_range) & ((y - sine_curve(x, cfg)).abs() <= tol)
        mode = ((x + cfg.x_range) / (2 * cfg.x_range) * cfg.modes).floor().clamp(0, cfg.modes - 1).long()
    per_mode = torch.bincount(mode[good], minlength=cfg.modes)  # (modes,)
    return {
        "modes_covered": int((per_mode >= COVER_FRACTION * n).sum()),
        "modes": cfg.modes,
        "high_quality": float(good.float().mean()),
        "per_mode": per_mode.tolist(),
        "protocol": PROTOCOL.format(n=n),
    }
