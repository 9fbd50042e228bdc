"""Optimizers of the two players and the learning-rate schedule.

Adam (DCGAN/pix2pix defaults betas=(0.5, 0.999)) or RMSProp (the WGAN recipe: lr 5e-5,
clip 0.01, n_critic 5), each player with its own learning rate (TTUR, Heusel et al.).

The schedule is a pure function of the generator step, applied before every step, so
resuming needs no scheduler state: `constant`, `linear` (pix2pix/DeblurGAN) which holds
the base rate until `decay_start` and then decays linearly, reaching base/(steps -
decay_start) on the last step (never exactly 0, so no step is wasted), or `cosine`
(NAFNet/Restormer) which decays along half a cosine over the same steps, to the same floor
fraction 1/(steps - decay_start) of the base rate. `warmup_steps` > 0 multiplies any of them
by (step + 1) / warmup_steps over the first steps: the norm-free gated `naf` deblur model
diverged here at lr 1e-3 with neither warm-up nor `grad_clip` (docs/benchmarks.md, deblur session 11).
"""

from __future__ import annotations

import math

from typing import Iterable

import torch

from gan_app.config import TrainConfig
from gan_app.errors import UserError

OPTIMIZERS = ("adam", "rmsprop")
SCHEDULES = ("constant", "linear", "cosine")


def build_optimizer(params: Iterable[torch.nn.Parameter], lr: float, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer named by `cfg.optimizer` over `params` at base rate `lr`."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=lr, betas=tuple(cfg.betas))
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise UserError(f"unknown optimizer {cfg.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")


def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Multiplier of the base learning rates for (0-based) generator step `step`."""
    warmup = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
    if cfg.lr_schedule == "constant" or step < cfg.decay_start:
        return warmup
    span = cfg.steps - cfg.decay_start
    if cfg.lr_schedule == "linear":
        return warmup * (cfg.steps - step) / span
    if cfg.lr_schedule == "cosine":
        floor = 1.0 / span
        return warmup * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * (step - cfg.decay_start) / span)))
    raise UserError(f"unknown lr_schedule {cfg.lr_schedule!r}; choose one of: {', '.join(SCHEDULES)}")


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set every parameter group of `optimizer` to `lr`."""
    for group in optimizer.param_groups:
        group["lr"] = lr
