"""How a head's generator and discriminator see a batch: the only thing a head adds to the loop.

Batches are dicts of tensors (the head's dataset decides the keys). Per generator step,
`gan_app.train.loop.fit` does, top to bottom:

    for i in range(n_critic):                                      # D step(s), fresh batch each
        batch = next(batches)
        fake = obj.generate(G, batch)                              # forward (grad kept on the last)
        critic = obj.critic(D, batch)                              # D bound to the batch: images -> Verdict
        d_real, d_fake = critic(obj.real(batch)), critic(fake.detach())
        loss_D = game.d_loss(d_real.logits, d_fake.logits) + penalties
                 + sum(w * t for (w, t) in obj.discriminator_terms(batch, fake.detach(), turn).values())
    freeze D                                                        # G step, on the last batch
    critic = obj.critic(D, batch); d_fake = critic(fake)            # (d_real too, no grad, for games that use it and feature matching)
    loss_G = adv_weight * game.g_loss(d_fake.logits, d_real.logits)
             + sum(w * t for (w, t) in obj.generator_terms(batch, fake, turn).values())

where `turn = Turn(G, critic, d_real, d_fake)` is what that player's step has computed: the
extra terms read the critic's outputs (logits and extras such as class heads) from it rather
than from state kept between calls, and may judge more images with `turn.critic`.
With `adv_weight == 0` (content pretraining) there is no D at all: one batch, one forward,
the generator terms with `Turn(G)`. Logits may have any shape (patch critics) or be a list
of tensors (multi-scale critics); the engine averages the game over the list. The periodic
sample picture shows `sample_size` fixed items (the dataset's first), generated with fixed
noise, drawn by `sample_grid`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Verdict:
    """The discriminator's output on one batch of images."""

    logits: Any  # what the game scores: (B,), patch logits (B, 1, H', W'), or a list of them (multi-scale)
    extras: dict[str, Any] = field(default_factory=dict)  # other heads' outputs, e.g. {"classes": (B, K)}
    # extras["features"]: an intermediate feature (B, ...) (or a list, multi-scale) that train.feature_matching_weight matches


@dataclass
class Turn:
    """One player's step as far as the engine has computed it, handed to that player's extra terms.

    In D's step the critic wraps the trainable D; in G's step the frozen one (G's backward then
    leaves D's gradients alone), so a term may judge more images through it in either step.
    """

    generator: Any                                   # G (the DDP wrapper under torchrun)
    critic: Callable[[Any], Verdict] | None = None   # `obj.critic(D, batch)` of this step; None without D (adv_weight 0)
    d_real: Verdict | None = None                    # critic(real): in D's step; in G's for relativistic games and feature matching (no grad)
    d_fake: Verdict | None = None                    # critic(fake); fake detached in D's step


class GanObjective:
    """Defaults for an image-to-image head: G(batch["source"]) vs real batch["target"]."""

    sample_size: int = 8   # items in the periodic sample picture

    def generate(self, generator: Any, batch: dict) -> Any:
        """Generator output for `batch`, (B, C, H, W)."""
        return generator(batch["source"])

    def real(self, batch: dict) -> Any:
        """Real images the discriminator should accept, (B, C, H, W)."""
        return batch["target"]

    def critic(self, discriminator: Any, batch: dict) -> Callable[[Any], Verdict]:
        """`discriminator` bound to `batch`'s conditioning: images (B, C, H, W) -> Verdict.

        The engine binds one per player step and judges real, fake and gradient-penalty images
        with it; work those calls share (e.g. embedding the batch's captions) belongs here, once.
        """
        return lambda images: Verdict(discriminator(images))

    def generator_terms(self, batch: dict, fake: Any, turn: Turn) -> dict[str, tuple[float, Any]]:
        """Extra weighted generator terms, name -> (weight, scalar tensor); logged separately."""
        return {}

    def discriminator_terms(self, batch: dict, fake: Any, turn: Turn) -> dict[str, tuple[float, Any]]:
        """Extra weighted discriminator terms (e.g. AC-GAN class loss, mismatched-text negatives); `fake` is detached."""
        return {}

    def sample_rows(self, batch: dict, fake: Any) -> list[Any]:
        """Image rows of the periodic sample grid, each (B, C, H, W) in the head's value range."""
        return [batch["source"], fake, batch["target"]]

    def sample_grid(self, batch: dict, fake: Any, value_range: tuple[float, float]) -> Any:
        """The periodic sample picture, (C, H, W) in [0, 1]: one row per `sample_rows` entry.

        Rows are mapped from `value_range` to [0, 1], resized to the largest row (nearest,
        e.g. low-resolution inputs of super-resolution) and grey rows repeated to RGB.
        """
        import torch
        import torch.nn.functional as F
        from torchvision.utils import make_grid

        lo, hi = value_range
        rows = [((r.detach().float().cpu() - lo) / (hi - lo)).clamp(0, 1) for r in self.sample_rows(batch, fake)]
        height = max(r.shape[-2] for r in rows)
        width = max(r.shape[-1] for r in rows)
        channels = max(r.shape[1] for r in rows)
        rows = [F.interpolate(r, size=(height, width), mode="nearest") if r.shape[-2:] != (height, width) else r for r in rows]
        rows = [r.expand(-1, channels, -1, -1) if r.shape[1] == 1 else r for r in rows]  # (B, C, H, W)
        return make_grid(torch.cat(rows), nrow=rows[0].shape[0], padding=2)


class ImageToImageObjective(GanObjective):
    """Image-to-image heads (deblur, super-resolution, paired): adversarial + one weighted content term."""

    def __init__(self, content_name: str, content_fn: Any, content_weight: float,
                 extra: dict[str, tuple[float, Any]] | None = None, critic_sees_source: bool = False):
        """`extra`: more weighted (pred, target) terms by name, e.g. {"frequency_l1": (10.0, fn)}; weight 0 drops one.

        `critic_sees_source`: pix2pix's conditional critic. It judges (source, image) concatenated on
        channels, so it can only accept detail that fits the input; source and images must be the same size."""
        self.content_name, self.content_fn, self.content_weight = content_name, content_fn, content_weight
        self.extra = {name: term for name, term in (extra or {}).items() if term[0]}
        self.critic_sees_source = critic_sees_source

    def critic(self, discriminator: Any, batch: dict) -> Callable[[Any], Verdict]:
        if not self.critic_sees_source:
            return super().critic(discriminator, batch)
        import torch

        source = batch["source"]   # (B, C, H, W), the generator's input; no gradient flows into it
        return lambda images: Verdict(discriminator(torch.cat([source, images], dim=1)))   # (B, C + C', H, W)

    def generator_terms(self, batch: dict, fake: Any, turn: Turn) -> dict[str, tuple[float, Any]]:
        terms = {self.content_name: (self.content_weight, self.content_fn(fake, batch["target"]))}
        for name, (weight, fn) in self.extra.items():
            terms[name] = (weight, fn(fake, batch["target"]))
        return terms
