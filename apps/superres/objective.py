"""How the engine sees super-resolution batches: G(LR) vs HR, L1 and/or PSNR loss plus an optional VGG19 conv5_4 term."""

from __future__ import annotations

from typing import Any

import torch.nn.functional as F

from gan_app.losses.pixel import psnr_loss
from gan_app.train.objective import GanObjective, Turn


class SRObjective(GanObjective):
    """Content terms: ESRGAN's `l1_weight` x L1 and `perceptual_weight` x VGG19 conv5_4 (pre-activation), and
    `psnr_weight` x minus the per-image PSNR (NAFNet's loss: the metric the benchmarks report)."""

    def __init__(self, loss_cfg: Any):
        """`loss_cfg`: an `SRLossConfig` (the run's `loss` section)."""
        self.l1_weight, self.perceptual_weight = loss_cfg.l1_weight, loss_cfg.perceptual_weight
        self.psnr_weight = loss_cfg.psnr_weight
        self.perceptual = None
        if self.perceptual_weight:
            from gan_app.losses.content import content_loss
            self.perceptual = content_loss("perceptual", ("conv5_4",), loss_cfg.vgg_weights, (0.0, 1.0))

    def generator_terms(self, batch: dict, fake: Any, turn: Turn) -> dict[str, tuple[float, Any]]:
        terms = {}
        if self.l1_weight:
            terms["l1"] = (self.l1_weight, F.l1_loss(fake, batch["target"]))
        if self.psnr_weight:
            terms["psnr"] = (self.psnr_weight, psnr_loss(fake, batch["target"]))
        if self.perceptual is not None:
            terms["perceptual"] = (self.perceptual_weight, self.perceptual(fake, batch["target"]))
        return terms
