"""How the engine trains GAN-INT-CLS (Reed et al. 2016): matching-aware D, interpolated captions for G.

Batches: {"image": (B, 3, R, R) in [-1, 1], "tokens": (B, L) int64, ["attributes": (B, A)]}.
Per step, on top of the engine's real/fake game (D sees (real, right text) and (fake, right text)):
The weights and choices below are the run's `loss` section (`Text2ImageLossConfig`), except `match_weight`.
- CLS (D): real images with mismatched text are a third negative, weighted `mismatch_weight`,
  scored with the game's negative-side loss. `mismatch="random"`: the batch's captions rolled by
  one (Reed et al.). Such a caption almost always differs in an easy fact (colour, position), so
  D never has to read the hard ones (shape). `mismatch="hard"`: each image gets the batch caption
  most similar to its own in D's text space that is not a rewording of it (cosine below
  `mismatch_max_similarity`; with the pretrained encoder rewordings score >= 0.98 and captions
  differing in one fact <= 0.84 on the shapes set), i.e. in-batch hard-negative mining. The weight
  must stay below the real term's 1: while D cannot read the text yet, (real, right) and
  (real, wrong) look alike, and at weight 1 every hinge logit in [-1, 1] is equally good for
  real images, so D stops telling real from fake (Reed et al. use 0.5).
- INT (G): fakes from embeddings interpolated halfway between two captions of the batch
  (beta = 0.5 as in the paper), judged by D against the same interpolation of its own text
  embeddings; weighted `interp_weight`. No real image exists for these, so D never trains on them.
- MATCH (optional, `model.match_weight`): G's in-batch contrastive image-text loss under the
  frozen image encoder of the text pretraining (D's `matcher`), AttnGAN's DAMSM idea.
- AC (optional, `loss.ac_weight`): attribute cross-entropy of D's attribute heads, on real
  images for D and on fakes for G (Odena et al.), summed over attributes.
Each player embeds the captions with its own text encoder (see model.py).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from gan_app.errors import UserError
from gan_app.train.objective import GanObjective, Turn, Verdict

from .pretrain import contrastive_loss


def _module(net: Any) -> Any:
    """The model behind a DDP wrapper (its `encode` method)."""
    return getattr(net, "module", net)


def hardest_negatives(embedding: torch.Tensor, max_similarity: float) -> torch.Tensor:
    """(B, T) -> (B,) index of each row's most cosine-similar other row below `max_similarity`
    (the row before it, cyclically, where no row qualifies)."""
    e = F.normalize(embedding.detach().float(), dim=1)
    sim = (e @ e.T).masked_fill_(torch.eye(len(e), dtype=torch.bool, device=e.device), 2.0)  # (B, B)
    sim = sim.masked_fill(sim >= max_similarity, -2.0)  # itself and its rewordings never qualify
    best = sim.max(dim=1)
    fallback = torch.arange(len(e), device=e.device).roll(1)
    return torch.where(best.values > -2.0, best.indices, fallback)


def interpolate(embedding: torch.Tensor, beta: float = 0.5) -> torch.Tensor:
    """(B, D) -> beta * e_i + (1 - beta) * e_{i-1}: each caption mixed with its batch neighbour."""
    return beta * embedding + (1.0 - beta) * embedding.roll(1, dims=0)


class TextCritic:
    """D bound to a batch's captions for one player step: `critic(images[, text])` -> Verdict.

    D's text embedding of the captions, `text` (B, T), is computed once, when bound: the engine
    binds a critic per player step, so it is the trainable encoder's in D's step and the frozen
    one's in G's. The Verdict holds the logits (B,) and, with attribute heads,
    {"attributes": (B, sum K)} (they read the image features alone, not the text).
    """

    def __init__(self, discriminator: Any, tokens: torch.Tensor):
        self.discriminator = discriminator
        self.text = _module(discriminator).text(tokens)  # (B, T)

    def __call__(self, images: torch.Tensor, text: torch.Tensor | None = None) -> Verdict:
        """Judge `images` (B, 3, R, R) against `text` (B, T), by default the batch's own captions."""
        out = self.discriminator(images, self.text if text is None else text)
        if isinstance(out, tuple):  # (logits (B,), attribute logits (B, sum K))
            return Verdict(out[0], {"attributes": out[1]})
        return Verdict(out)


MISMATCHES = ("random", "hard")


class Text2ImageObjective(GanObjective):
    """GAN-INT-CLS terms for the engine; `attribute_sizes` splits D's attribute logits."""

    sample_size = 10

    def __init__(self, z_dim: int, game: str, mismatch_weight: float = 0.5, interp_weight: float = 1.0,
                 ac_weight: float = 0.0, attribute_sizes: tuple[int, ...] = (), match_weight: float = 0.0,
                 mismatch: str = "random", mismatch_max_similarity: float = 0.95):
        from gan_app.losses.adversarial import GAMES, get_game

        self.z_dim, self.game = z_dim, get_game(game)
        if mismatch not in MISMATCHES:
            raise UserError(f"loss.mismatch must be one of {', '.join(MISMATCHES)}, got {mismatch!r}")
        if ac_weight and not attribute_sizes:
            raise UserError("loss.ac_weight > 0 needs D's attribute heads: set model.attribute_sizes (the data's "
                            "attribute classes, captioned-shapes: 4,5,2,9) or loss.ac_weight=0")
        if mismatch_weight and self.game.d_fake_loss is None:
            splits = sorted(name for name, g in GAMES.items() if g.d_fake_loss is not None)
            raise UserError(f"the mismatched-text term supports the games {splits}, not {game!r}; "
                            "pass --set train.loss=hinge (or nonsaturating)")
        self.mismatch_weight, self.interp_weight = mismatch_weight, interp_weight
        self.ac_weight, self.attribute_sizes = ac_weight, tuple(attribute_sizes)
        self.match_weight = match_weight
        self.mismatch, self.mismatch_max_similarity = mismatch, mismatch_max_similarity

    def generate(self, generator: Any, batch: dict) -> torch.Tensor:
        tokens = batch["tokens"]  # (B, L)
        embedding = _module(generator).encode(tokens)  # (B, T)
        z = torch.randn(tokens.shape[0], self.z_dim, device=tokens.device)  # (B, Z)
        return generator(z, embedding)  # (B, 3, R, R)

    def real(self, batch: dict) -> torch.Tensor:
        return batch["image"]

    def critic(self, discriminator: Any, batch: dict) -> TextCritic:
        return TextCritic(discriminator, batch["tokens"])

    def _attribute_loss(self, logits: torch.Tensor, batch: dict) -> torch.Tensor:
        """Summed cross-entropy of each attribute head; logits (B, sum K), batch["attributes"] (B, A)."""
        if "attributes" not in batch:
            raise UserError("loss.ac_weight > 0 needs attribute labels, which only --data captioned-shapes has; "
                            "pass --set loss.ac_weight=0")
        chunks = logits.float().split(self.attribute_sizes, dim=1)
        return sum(F.cross_entropy(c, batch["attributes"][:, k]) for k, c in enumerate(chunks))

    def discriminator_terms(self, batch: dict, fake: torch.Tensor, turn: Turn) -> dict:
        terms = {}
        real, critic = batch["image"], turn.critic
        seen_real = turn.d_real  # D's latest verdict on the real images
        if self.mismatch_weight:
            text = critic.text  # (B, T)
            wrong = (text[hardest_negatives(text, self.mismatch_max_similarity)] if self.mismatch == "hard"
                     else text.roll(1, dims=0))  # (B, T) mismatched text
            seen_real = critic(real, wrong)
            terms["mismatch"] = (self.mismatch_weight, self.game.d_fake_loss(seen_real.logits))
        if self.ac_weight:  # the attribute heads ignore the text: any verdict on the real images serves
            terms["attributes"] = (self.ac_weight, self._attribute_loss(seen_real.extras["attributes"], batch))
        return terms

    def generator_terms(self, batch: dict, fake: torch.Tensor, turn: Turn) -> dict:
        if turn.d_fake is None:
            return {}  # no D (adv_weight 0): every term here is judged by D
        terms = {}
        if self.ac_weight:
            terms["attributes"] = (self.ac_weight, self._attribute_loss(turn.d_fake.extras["attributes"], batch))
        if not (self.match_weight or self.interp_weight):
            return terms
        embedding = _module(turn.generator).encode(batch["tokens"])  # (B, T) G's text embedding, as `generate` computes it
        if self.match_weight:
            d = _module(turn.critic.discriminator)
            loss, _ = contrastive_loss(d.matcher(fake), embedding, d.match_log_scale)
            terms["match"] = (self.match_weight, loss)
        if self.interp_weight:
            if self.game.uses_real_in_g:
                raise UserError(f"GAN-INT has no real images for {self.game.name!r}; use hinge or nonsaturating")
            z = torch.randn(fake.shape[0], self.z_dim, device=fake.device)
            fake_mix = turn.generator(z, interpolate(embedding))  # (B, 3, R, R) from G's interpolated text
            d_text = interpolate(turn.critic.text)  # (B, T) the same interpolation in D's text space
            terms["interp"] = (self.interp_weight, self.game.g_loss(turn.critic(fake_mix, d_text).logits))
        return terms

    def sample_rows(self, batch: dict, fake: torch.Tensor) -> list:
        return [batch["image"], fake]  # real row, then fakes from the same captions
