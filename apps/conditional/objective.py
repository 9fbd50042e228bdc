"""How the engine feeds the class-conditional models: noise + batch labels in, label-aware D.

Batches are {"image": (B, C, R, R) in [-1, 1], "label": (B,) int64}. The generator draws
z ~ N(0, I) (B, z_dim) on the labels' device and renders the batch's labels, so fakes follow
the data's class frequencies. For the AC-GAN discriminator both players also minimise the
class cross-entropy (Odena et al.: D on real and fake, G on fake).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from gan_app.train.objective import GanObjective


class ConditionalObjective(GanObjective):
    """Latent + label generator against a label-conditioned (or auxiliary-classifier) D."""

    sample_size = 10

    def __init__(self, z_dim: int, ac_weight: float = 0.0):
        self.z_dim, self.ac_weight = z_dim, ac_weight
        # AC-GAN: class logits of the last `discriminate` call, keyed by the images object, so
        # the G term reuses the forward the engine just ran on the same fakes.
        self._last: tuple[Any, torch.Tensor] | None = None

    def generate(self, generator: Any, batch: dict) -> torch.Tensor:
        labels = batch["label"]  # (B,)
        z = torch.randn(labels.shape[0], self.z_dim, device=labels.device)  # (B, z_dim)
        return generator(z, labels)  # (B, C, R, R)

    def real(self, batch: dict) -> torch.Tensor:
        return batch["image"]

    def discriminate(self, discriminator: Any, images: torch.Tensor, batch: dict) -> torch.Tensor:
        out = discriminator(images, batch["label"])
        if isinstance(out, tuple):  # AC-GAN: (adv (B,), class logits (B, K))
            self._last = (images, out[1])
            return out[0]
        return out  # (B,)

    def discriminator_terms(self, discriminator: Any, batch: dict, fake: torch.Tensor) -> dict:
        if not self.ac_weight:
            return {}
        labels = batch["label"]
        _, real_cls = discriminator(batch["image"], labels)  # (B, K)
        _, fake_cls = discriminator(fake, labels)  # (B, K)
        loss = F.cross_entropy(real_cls.float(), labels) + F.cross_entropy(fake_cls.float(), labels)
        return {"class": (self.ac_weight, loss)}

    def generator_terms(self, fake: torch.Tensor, batch: dict) -> dict:
        if not self.ac_weight:
            return {}
        if self._last is None or self._last[0] is not fake:
            raise RuntimeError("AC-GAN generator term needs discriminate(D, fake, batch) on the same fakes first")
        return {"class": (self.ac_weight, F.cross_entropy(self._last[1].float(), batch["label"]))}

    def sample_rows(self, batch: dict, fake: torch.Tensor) -> list:
        return [batch["image"], fake]  # real row, then fakes of the same classes
