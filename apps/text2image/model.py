"""GAN-INT-CLS generator and matching-aware discriminator (Reed et al. 2016), from `gan_app.nn` blocks.

Generator: the sentence embedding phi(t) (B, text_dim) is compressed by FC + LeakyReLU(0.2) to
`proj_dim` and concatenated with z; a DCGAN generator renders (B, 3, R, R) in [-1, 1]. The
exported graph takes (z, embedding): the text encoder is a separate graph, so captions can be
interpolated in embedding space at inference (`--interpolate`).

Discriminator: DCGAN conv stack to a 4x4 map; the (own) text embedding, compressed the same
way, is replicated over the 4x4 grid and concatenated to it; a 1x1 conv + LeakyReLU and the
4x4 conv give the logit (B,). With `attribute_sizes` set (e.g. the shapes set's 4, 5, 2, 9)
D also predicts each attribute from the image features alone (AC-GAN style, Odena et al.).

DF-GAN/projection-style options (`fusion="affine"`, `critic="projection"`):
- affine fusion (G): besides the concatenation at the input, every hidden batch norm takes its
  per-channel gamma, beta from a linear map of the compressed text (`VectorConditionalBatchNorm2d`),
  so the caption modulates every resolution, not only the 1x1 input (Tao et al., DF-GAN).
- projection critic (D): logit = psi(phi(x)) + <phi(x), W e(t)> on the flattened 4x4 map phi
  (B, F), with spectral norm on psi and W (Miyato & Koyama); the mismatched-text negative of
  the objective then moves exactly the text-dependent inner product.

With `match_weight` > 0, G also minimises the contrastive image-text loss of the pretraining
under its frozen image encoder (kept in D as `matcher`), as AttnGAN's DAMSM loss does: each
fake must be retrievable by its own caption among the batch.

Each player owns its text encoder: G's is trained by G's loss, D's by D's (the mismatched-text
term makes D's a matching model); neither sees the other's gradients. With
`text_pretrain_steps` > 0 both start from one encoder pretrained on image-caption matching
(`pretrain.py`, before the first GAN step) and stay frozen, as in Reed et al.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from gan_app.nn.blocks import ConvNormAct
from gan_app.nn.conditional import VectorConditionalBatchNorm2d
from gan_app.nn.dcgan import DCGANDiscriminator, DCGANGenerator
from gan_app.nn.spectral import maybe_spectral

from .pretrain import ImageEncoder
from .text_encoder import KINDS, TextEncoder
from .wordllama_table import ROWS as WORDLLAMA_ROWS


@dataclass
class Text2ImageModelConfig:
    """Architecture of the text encoders, generator and discriminator."""

    text_encoder: str = "wordllama"       # wordllama (frozen pretrained table + GRU) | trainable
    vocab: tuple[str, ...] = ()           # words the model knows; () = taken from the training captions
    vocab_size: int = 512                 # trainable encoder: embedding rows (words + padding)
    max_tokens: int = 16                  # table rows per caption (longer captions are truncated)
    word_dim: int = 64                    # trainable encoder: word vector width (wordllama: 256)
    text_hidden: int = 128                # GRU width
    text_dim: int = 128                   # sentence embedding phi(t)
    proj_dim: int = 64                    # FC + LeakyReLU compression of phi(t), in G and in D
    resolution: int = 32
    z_dim: int = 64
    g_width: int = 32
    d_width: int = 32
    d_norm: str = "none"
    spectral: bool = True
    fusion: str = "concat"                # G: concat (text at the input) | affine (+ text-conditioned batch norms)
    critic: str = "concat"                # D: concat (text over the 4x4 map, Reed) | projection (Miyato & Koyama)
    attribute_sizes: tuple[int, ...] = ()  # AC-GAN attribute heads in D; () = off
    text_pretrain_steps: int = 0           # >0: joint image-text pretraining of the text encoder, then frozen
    # G: image-text matching loss under the frozen pretraining image encoder. A loss weight, but here because
    # it is also architecture: D holds that encoder (`matcher`) only when it is > 0.
    match_weight: float = 0.0


@dataclass
class Text2ImageLossConfig:
    """The terms of GAN-INT-CLS on top of the engine's game (see objective.py)."""

    ac_weight: float = 0.0                 # weight of the attribute cross-entropy (G and D; needs model.attribute_sizes)
    mismatch_weight: float = 0.5           # D: real image + mismatched text as a negative (Reed et al.: 0.5)
    mismatch: str = "random"               # which text: random (another item's, Reed) | hard (most similar other fact)
    mismatch_max_similarity: float = 0.95  # hard: cosine above this = the same facts in other words, never a negative
    interp_weight: float = 1.0             # G: GAN-INT loss on halfway-interpolated captions


FUSIONS, CRITICS = ("concat", "affine"), ("concat", "projection")


def check_config(cfg: Text2ImageModelConfig) -> None:
    if cfg.fusion not in FUSIONS or cfg.critic not in CRITICS:
        raise ValueError(f"fusion must be one of {FUSIONS} and critic one of {CRITICS}, got {cfg.fusion!r}, {cfg.critic!r}")
    if cfg.text_encoder not in KINDS:
        raise ValueError(f"text_encoder must be one of {KINDS}, got {cfg.text_encoder!r}")
    if cfg.text_encoder == "trainable" and cfg.vocab and len(cfg.vocab) + 1 > cfg.vocab_size:
        raise ValueError(f"{len(cfg.vocab)} words need vocab_size >= {len(cfg.vocab) + 1}, got {cfg.vocab_size}")
    if cfg.match_weight and not cfg.text_pretrain_steps:
        raise ValueError("match_weight > 0 needs the pretrained image encoder: set text_pretrain_steps > 0")


def table_rows(cfg: Text2ImageModelConfig) -> int:
    return WORDLLAMA_ROWS if cfg.text_encoder == "wordllama" else cfg.vocab_size


def build_text_encoder(cfg: Text2ImageModelConfig) -> TextEncoder:
    return TextEncoder(cfg.text_encoder, table_rows(cfg), cfg.word_dim, cfg.text_hidden, cfg.text_dim,
                       frozen=cfg.text_pretrain_steps > 0)


def _compress(cfg: Text2ImageModelConfig, spectral: bool = False) -> nn.Sequential:
    return nn.Sequential(maybe_spectral(nn.Linear(cfg.text_dim, cfg.proj_dim), spectral), nn.LeakyReLU(0.2))


class _AffineStage(nn.Module):
    """Transposed conv -> text-conditioned batch norm -> ReLU: (B, in, H, W), cond (B, P) -> (B, out, H', W')."""

    def __init__(self, in_channels: int, out_channels: int, cond_dim: int, stride: int, padding: int):
        super().__init__()
        self.conv = nn.ConvTranspose2d(in_channels, out_channels, 4, stride, padding, bias=False)
        self.norm = VectorConditionalBatchNorm2d(out_channels, cond_dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.norm(self.conv(x), cond))


class AffineTextGenerator(nn.Module):
    """The DCGAN generator's layout (1x1 -> 4x4 -> ... -> R, widths halving) with every hidden norm
    conditioned on `cond`: forward(z (B, Z), cond (B, P)) -> (B, 3, R, R) in [-1, 1]."""

    def __init__(self, z_dim: int, cond_dim: int, resolution: int, base_width: int):
        super().__init__()
        if resolution < 8 or resolution & (resolution - 1):
            raise ValueError(f"resolution must be a power of two >= 8, got {resolution}")
        n_up = resolution.bit_length() - 3  # stride-2 stages from 4x4 to R
        width = base_width * 2 ** (n_up - 1)
        stages = [_AffineStage(z_dim + cond_dim, width, cond_dim, 1, 0)]  # 1x1 -> 4x4
        for _ in range(n_up - 1):
            stages.append(_AffineStage(width, width // 2, cond_dim, 2, 1))
            width //= 2
        self.stages = nn.ModuleList(stages)
        self.to_image = ConvNormAct(width, 3, 4, stride=2, norm="none", act="tanh", transposed=True)

    def forward(self, z: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        x = torch.cat([z, cond], dim=1)[:, :, None, None]  # (B, Z + P, 1, 1)
        for stage in self.stages:
            x = stage(x, cond)  # (B, w, 4 * 2**i, 4 * 2**i)
        return self.to_image(x)  # (B, 3, R, R)


class Text2ImageGenerator(nn.Module):
    """forward(z (B, z_dim), embedding (B, text_dim)) -> (B, 3, R, R); `encode(tokens (B, L))` -> (B, text_dim)."""

    def __init__(self, cfg: Text2ImageModelConfig):
        super().__init__()
        check_config(cfg)
        self.text_dim = cfg.text_dim
        self.text = build_text_encoder(cfg)
        self.compress = _compress(cfg)
        if cfg.fusion == "affine":
            self.net = AffineTextGenerator(cfg.z_dim, cfg.proj_dim, cfg.resolution, cfg.g_width)
        else:
            self.net = DCGANGenerator(z_dim=cfg.z_dim, out_channels=3, resolution=cfg.resolution,
                                      base_width=cfg.g_width, cond_dim=cfg.proj_dim)

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.text(tokens)  # (B, text_dim)

    def forward(self, z: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        if embedding.dim() != 2 or embedding.shape != (z.shape[0], self.text_dim):
            raise ValueError(f"embedding must be (B, {self.text_dim}) with B={z.shape[0]}, got {tuple(embedding.shape)}")
        return self.net(z, cond=self.compress(embedding))  # (B, 3, R, R) in [-1, 1]


class Text2ImageDiscriminator(nn.Module):
    """forward(images (B, 3, R, R), embedding (B, text_dim)) -> logits (B,) [, attribute logits (B, sum K)]."""

    def __init__(self, cfg: Text2ImageModelConfig):
        super().__init__()
        check_config(cfg)
        self.resolution, self.text_dim = cfg.resolution, cfg.text_dim
        self.text = build_text_encoder(cfg)
        body = DCGANDiscriminator(in_channels=3, resolution=cfg.resolution, base_width=cfg.d_width,
                                  norm=cfg.d_norm, spectral=cfg.spectral)
        width = body.feature_dim // 16  # channels of the 4x4 map
        self.blocks = body.blocks
        self.projection = cfg.critic == "projection"
        if self.projection:
            self.psi = maybe_spectral(nn.Linear(body.feature_dim, 1), cfg.spectral)
            self.embed = maybe_spectral(nn.Linear(cfg.text_dim, body.feature_dim, bias=False), cfg.spectral)
        else:
            self.compress = _compress(cfg, cfg.spectral)
            self.joint = ConvNormAct(width + cfg.proj_dim, width, 1, norm=cfg.d_norm, act="lrelu", spectral=cfg.spectral)
            self.to_logit = body.to_logit  # the DCGAN 4x4 valid conv
        self.attributes = (maybe_spectral(nn.Linear(body.feature_dim, sum(cfg.attribute_sizes)), cfg.spectral)
                           if cfg.attribute_sizes else None)
        # The frozen image encoder of the text pretraining, for G's matching loss (AttnGAN's DAMSM
        # idea): kept here so checkpoints carry it; never part of D's own loss, always in eval mode.
        self.matcher = ImageEncoder(cfg.resolution, cfg.d_width, cfg.text_dim) if cfg.match_weight else None
        if self.matcher is not None:
            self.matcher.requires_grad_(False)
            self.register_buffer("match_log_scale", torch.zeros(()))

    def train(self, mode: bool = True) -> "Text2ImageDiscriminator":
        super().train(mode)
        if self.matcher is not None:
            self.matcher.eval()  # batch-norm statistics of real images, never of a batch of fakes
        return self

    def encode(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.text(tokens)  # (B, text_dim)

    def forward(self, images: torch.Tensor, embedding: torch.Tensor):
        expected = (3, self.resolution, self.resolution)
        if images.dim() != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"discriminator expects (B, 3, {self.resolution}, {self.resolution}), got {tuple(images.shape)}")
        if embedding.shape != (images.shape[0], self.text_dim):
            raise ValueError(f"embedding must be (B, {self.text_dim}), got {tuple(embedding.shape)}")
        feats = self.blocks(images)  # (B, C4, 4, 4)
        if self.projection:
            phi = feats.flatten(1)  # (B, F)
            logits = self.psi(phi).squeeze(1) + (phi * self.embed(embedding)).sum(dim=1)  # (B,)
        else:
            text = self.compress(embedding)[:, :, None, None].expand(-1, -1, *feats.shape[2:])  # (B, P, 4, 4)
            logits = self.to_logit(self.joint(torch.cat([feats, text], dim=1))).flatten()  # (B,)
        if self.attributes is None:
            return logits
        return logits, self.attributes(feats.flatten(1))  # (B,), (B, sum K)


def build_generator(cfg: Text2ImageModelConfig) -> Text2ImageGenerator:
    return Text2ImageGenerator(cfg)


def build_discriminator(cfg: Text2ImageModelConfig) -> Text2ImageDiscriminator:
    return Text2ImageDiscriminator(cfg)
