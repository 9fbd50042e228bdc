"""How the engine feeds the class-conditional models: noise + batch labels in, label-aware D.

Batches are {"image": (B, C, R, R) in [-1, 1], "label": (B,) int64}. The generator draws
z ~ N(0, I) (B, z_dim) on the labels' device and renders the batch's labels, so fakes follow
the data's class frequencies. For the AC-GAN discriminator both players also minimise the
class cross-entropy (Odena et al.: D on real and fake, G on fake).
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F

from gan_app.train.objective import GanObjective, Turn, Verdict


class ConditionalObjective(GanObjective):
    """Latent + label generator against a label-conditioned (or auxiliary-classifier) D."""

    sample_size = 10

    def __init__(self, z_dim: int, ac_weight: float = 0.0):
        self.z_dim, self.ac_weight = z_dim, ac_weight

    def generate(self, generator: Any, batch: dict) -> torch.Tensor:
        labels = batch["label"]  # (B,)
        z = torch.randn(labels.shape[0], self.z_dim, device=labels.device)  # (B, z_dim)
        return generator(z, labels)  # (B, C, R, R)

    def real(self, batch: dict) -> torch.Tensor:
        return batch["image"]

    def critic(self, discriminator: Any, batch: dict) -> Callable[[torch.Tensor], Verdict]:
        """Judges images as the batch's classes: Verdict(logits (B,), {"features": phi (B, F)[, "classes": (B, K)
        for AC-GAN]}); phi, D's last feature map, is what `train.feature_matching_weight` matches."""
        labels = batch["label"]  # (B,)

        def judge(images: torch.Tensor) -> Verdict:
            out, phi = discriminator(images, labels, return_features=True)
            if isinstance(out, tuple):  # AC-GAN: (adv (B,), class logits (B, K))
                return Verdict(out[0], {"classes": out[1], "features": phi})
            return Verdict(out, {"features": phi})

        return judge

    def discriminator_terms(self, batch: dict, fake: torch.Tensor, turn: Turn) -> dict:
        if not self.ac_weight:
            return {}
        labels = batch["label"]
        # Fresh forwards, not turn.d_real/d_fake: with spectral norm each forward steps the power
        # iteration, and the class loss has always been taken after those of the game's logits.
        real_cls = turn.critic(batch["image"]).extras["classes"]  # (B, K)
        fake_cls = turn.critic(fake).extras["classes"]  # (B, K)
        loss = F.cross_entropy(real_cls.float(), labels) + F.cross_entropy(fake_cls.float(), labels)
        return {"class": (self.ac_weight, loss)}

    def generator_terms(self, batch: dict, fake: torch.Tensor, turn: Turn) -> dict:
        if not self.ac_weight or turn.d_fake is None:  # d_fake None: no D (adv_weight 0)
            return {}
        return {"class": (self.ac_weight, F.cross_entropy(turn.d_fake.extras["classes"].float(), batch["label"]))}

    def sample_rows(self, batch: dict, fake: torch.Tensor) -> list:
        return [batch["image"], fake]  # real row, then fakes of the same classes
