"""How a head's generator and discriminator see a batch: the only thing a head adds to the loop.

Batches are dicts of tensors (the head's dataset decides the keys). Per generator step,
`gan_app.train.loop.fit` does, top to bottom:

    fake = obj.generate(G, batch)                                  # forward
    for _ in range(n_critic):                                      # D step(s)
        d_real = obj.discriminate(D, obj.real(batch), batch)
        d_fake = obj.discriminate(D, fake.detach(), batch)
        loss_D = game.d_loss(d_real, d_fake) + regularizers + sum(obj.discriminator_terms(...))
    freeze D                                                        # G step
    loss_G = adv_weight * game.g_loss(obj.discriminate(D, fake, batch), d_real)
             + sum(w * t for (w, t) in obj.generator_terms(fake, batch).values())

`discriminate` may return a tensor of logits of any shape (patch critics) or a list of
them (multi-scale critics); the engine averages the game over the list.
"""

from __future__ import annotations

from typing import Any


class GanObjective:
    """Defaults for an image-to-image head: G(batch["source"]) vs real batch["target"]."""

    def generate(self, generator: Any, batch: dict) -> Any:
        """Generator output for `batch`, (B, C, H, W)."""
        return generator(batch["source"])

    def real(self, batch: dict) -> Any:
        """Real images the discriminator should accept, (B, C, H, W)."""
        return batch["target"]

    def discriminate(self, discriminator: Any, images: Any, batch: dict) -> Any:
        """Discriminator logits for `images`, conditioned on `batch` where the head needs it."""
        return discriminator(images)

    def generator_terms(self, fake: Any, batch: dict) -> dict[str, tuple[float, Any]]:
        """Extra weighted generator terms, name -> (weight, scalar tensor); logged separately."""
        return {}

    def discriminator_terms(self, discriminator: Any, batch: dict, fake: Any) -> dict[str, tuple[float, Any]]:
        """Extra weighted discriminator terms (e.g. AC-GAN class loss, mismatched-text negatives)."""
        return {}

    def sample_rows(self, batch: dict, fake: Any) -> list[Any]:
        """Image rows of the periodic sample grid, each (B, C, H, W) in the head's value range."""
        return [batch["source"], fake, batch["target"]]


class ImageToImageObjective(GanObjective):
    """Image-to-image heads (deblur, super-resolution, paired): adversarial + one weighted content term."""

    def __init__(self, content_name: str, content_fn: Any, content_weight: float):
        self.content_name, self.content_fn, self.content_weight = content_name, content_fn, content_weight

    def generator_terms(self, fake: Any, batch: dict) -> dict[str, tuple[float, Any]]:
        return {self.content_name: (self.content_weight, self.content_fn(fake, batch["target"]))}
