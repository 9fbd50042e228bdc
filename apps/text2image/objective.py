"""How the engine trains GAN-INT-CLS (Reed et al. 2016): matching-aware D, interpolated captions for G.

Batches: {"image": (B, 3, R, R) in [-1, 1], "tokens": (B, L) int64, ["attributes": (B, A)]}.
Per step, on top of the engine's real/fake game (D sees (real, right text) and (fake, right text)):
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
- AC (optional, `model.ac_weight`): attribute cross-entropy of D's attribute heads, on real
  images for D and on fakes for G (Odena et al.), summed over attributes.
Each player embeds the captions with its own text encoder (see model.py).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from gan_app.errors import UserError
from gan_app.train.objective import GanObjective

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


class Text2ImageObjective(GanObjective):
    """GAN-INT-CLS terms for the engine; `attribute_sizes` splits D's attribute logits."""

    sample_size = 10

    def __init__(self, z_dim: int, game: str, mismatch_weight: float = 0.5, interp_weight: float = 1.0,
                 ac_weight: float = 0.0, attribute_sizes: tuple[int, ...] = (), match_weight: float = 0.0,
                 mismatch: str = "random", mismatch_max_similarity: float = 0.95):
        from gan_app.losses.adversarial import GAMES, get_game

        self.z_dim, self.game = z_dim, get_game(game)
        if mismatch_weight and self.game.d_fake_loss is None:
            splits = sorted(name for name, g in GAMES.items() if g.d_fake_loss is not None)
            raise UserError(f"the mismatched-text term supports the games {splits}, not {game!r}; "
                            "pass --set train.loss=hinge (or nonsaturating)")
        self.mismatch_weight, self.interp_weight = mismatch_weight, interp_weight
        self.ac_weight, self.attribute_sizes = ac_weight, tuple(attribute_sizes)
        self.match_weight = match_weight
        self.mismatch, self.mismatch_max_similarity = mismatch, mismatch_max_similarity
        self._generator: Any = None          # G of the last `generate`, for the GAN-INT term
        self._discriminator: Any = None      # D of the last `discriminate` (frozen during the G step)
        self._embedding: torch.Tensor | None = None  # G's text embedding of the last `generate` (B, T)
        self._attr: dict[int, torch.Tensor] = {}     # id(images) -> D's attribute logits (B, sum K)
        # D's text embedding of the batch, once per player step: D's weights change between its
        # step (trainable) and G's (frozen), so the key includes whether D is trainable.
        self._d_text: dict[tuple[int, bool], torch.Tensor] = {}

    def generate(self, generator: Any, batch: dict) -> torch.Tensor:
        tokens = batch["tokens"]  # (B, L)
        self._generator, self._attr, self._d_text = generator, {}, {}
        self._embedding = _module(generator).encode(tokens)  # (B, T)
        z = torch.randn(tokens.shape[0], self.z_dim, device=tokens.device)  # (B, Z)
        return generator(z, self._embedding)  # (B, 3, R, R)

    def real(self, batch: dict) -> torch.Tensor:
        return batch["image"]

    def _judge(self, discriminator: Any, images: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        out = discriminator(images, embedding)
        if isinstance(out, tuple):  # (logits (B,), attribute logits (B, sum K))
            self._attr[id(images)] = out[1]
            return out[0]
        return out  # (B,)

    def text(self, discriminator: Any, tokens: torch.Tensor) -> torch.Tensor:
        """D's embedding of `tokens` (B, T), computed once per player step."""
        encoder = _module(discriminator).text
        key = (id(tokens), any(p.requires_grad for p in encoder.parameters()))
        if key not in self._d_text:
            self._d_text[key] = encoder(tokens)
        return self._d_text[key]

    def discriminate(self, discriminator: Any, images: torch.Tensor, batch: dict) -> torch.Tensor:
        self._discriminator = discriminator
        return self._judge(discriminator, images, self.text(discriminator, batch["tokens"]))

    def _attribute_loss(self, logits: torch.Tensor, batch: dict) -> torch.Tensor:
        """Summed cross-entropy of each attribute head; logits (B, sum K), batch["attributes"] (B, A)."""
        if "attributes" not in batch:
            raise UserError("model.ac_weight > 0 needs attribute labels, which only --data shapes has; "
                            "pass --set model.ac_weight=0")
        chunks = logits.float().split(self.attribute_sizes, dim=1)
        return sum(F.cross_entropy(c, batch["attributes"][:, k]) for k, c in enumerate(chunks))

    def discriminator_terms(self, discriminator: Any, batch: dict, fake: torch.Tensor) -> dict:
        terms = {}
        real = batch["image"]
        if self.mismatch_weight:
            text = self.text(discriminator, batch["tokens"])  # (B, T)
            wrong = (text[hardest_negatives(text, self.mismatch_max_similarity)] if self.mismatch == "hard"
                     else text.roll(1, dims=0))  # (B, T) mismatched text
            terms["mismatch"] = (self.mismatch_weight, self.game.d_fake_loss(self._judge(discriminator, real, wrong)))
        if self.ac_weight:
            if id(real) not in self._attr:
                self.discriminate(discriminator, real, batch)
            terms["attributes"] = (self.ac_weight, self._attribute_loss(self._attr[id(real)], batch))
        return terms

    def generator_terms(self, fake: torch.Tensor, batch: dict) -> dict:
        terms = {}
        if self.ac_weight:
            if id(fake) not in self._attr:
                raise RuntimeError("the attribute term needs discriminate(D, fake, batch) on the same fakes first")
            terms["attributes"] = (self.ac_weight, self._attribute_loss(self._attr[id(fake)], batch))
        if self.match_weight:
            if self._discriminator is None:
                raise RuntimeError("the matching term needs discriminate(D, fake, batch) first (it uses D's matcher)")
            d = _module(self._discriminator)
            loss, _ = contrastive_loss(d.matcher(fake), self._embedding, d.match_log_scale)
            terms["match"] = (self.match_weight, loss)
        if self.interp_weight and self._discriminator is not None:
            if self.game.uses_real_in_g:
                raise UserError(f"GAN-INT has no real images for {self.game.name!r}; use hinge or nonsaturating")
            mixed = interpolate(self._embedding)  # (B, T) in G's text space
            z = torch.randn(fake.shape[0], self.z_dim, device=fake.device)
            fake_mix = self._generator(z, mixed)  # (B, 3, R, R)
            d_text = interpolate(self.text(self._discriminator, batch["tokens"]))  # (B, T) in D's text space
            terms["interp"] = (self.interp_weight, self.game.g_loss(self._judge(self._discriminator, fake_mix, d_text)))
        return terms

    def sample_rows(self, batch: dict, fake: torch.Tensor) -> list:
        return [batch["image"], fake]  # real row, then fakes from the same captions
