"""Class-conditional DCGAN generator and discriminator variants, built from `gan_app.nn` blocks.

Generator conditioning (`g_conditioning`):
- "cbn": conditional batch norm in every hidden block (per-class gamma/beta; de Vries et al.),
- "concat": a learned label embedding concatenated to z (cGAN, Mirza & Osindero).
Discriminator (`discriminator`):
- "projection": logit = linear(phi) + <embed(y), phi> on D's flattened 4x4 features (Miyato & Koyama),
- "concat": the label embedding broadcast as extra input channels (cGAN),
- "acgan": an unconditional real/fake logit plus class logits (Odena et al.); the class loss is
  added by the objective (see objective.py), weighted by `ConditionalLossConfig.ac_weight`.
Images are (B, channels, R, R) in [-1, 1]; labels (B,) int64.

Salimans et al. (2016) options (`gan_app.losses.improved`), off by default:
- `virtual_bn = n`: G's (conditional) batch norm takes its statistics from a fixed reference batch
  of n (z, label) pairs, drawn once from a fixed seed and stored with the weights. Every
  train-mode forward runs it first (G's cost grows by n / B); eval mode and the exported graph
  use the statistics it recorded, so one sample never depends on the others of its batch.
- `minibatch_kernels = k`: minibatch discrimination on D's flattened features before the
  projection / AC head (k kernels of `MINIBATCH_KERNEL_DIMS` dims), so D sees how alike the
  samples of a batch are.
D's features phi (B, C4 * 16), before minibatch discrimination, are what `train.feature_matching_weight`
compares (`forward(..., return_features=True)`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from gan_app.losses.improved import MinibatchDiscrimination, virtual_forward
from gan_app.nn.conditional import AuxClassifierHead, LabelEmbeddingConcat, ProjectionHead
from gan_app.nn.dcgan import DCGANDiscriminator, DCGANGenerator

G_CONDITIONING = ("cbn", "concat")
DISCRIMINATORS = ("projection", "concat", "acgan")
MINIBATCH_KERNEL_DIMS = 5   # C of the minibatch-discrimination tensor, as in the paper's code
REFERENCE_SEED = 20_160_610  # draws virtual batch norm's reference batch; fixed, so a config rebuilds it


@dataclass
class ConditionalModelConfig:
    """Architecture of the class-conditional generator and discriminator."""

    num_classes: int = 10
    class_names: tuple[str, ...] = ()   # () = taken from the data when training starts
    channels: int = 1
    resolution: int = 32                # power of two; 28x28 sets are padded to 32
    z_dim: int = 128
    g_width: int = 64                   # DCGAN base width: G runs 4x4x(g_width*R/8) -> RxRxC
    g_conditioning: str = "cbn"         # cbn | concat
    embed_dim: int = 32                 # label embedding width for concat conditioning (G and D)
    discriminator: str = "projection"   # projection | concat | acgan
    d_width: int = 64
    d_norm: str = "none"                # hidden-layer norm of D ("none" with spectral norm)
    spectral: bool = True               # spectral norm on every D layer
    virtual_bn: int = 0                 # virtual batch norm in G: reference batch size (0 = plain batch norm)
    minibatch_kernels: int = 0          # minibatch discrimination kernels in D (0 = off); not with concat


@dataclass
class ConditionalLossConfig:
    """The head's own loss settings (the game and the Salimans et al. terms are `train.*`)."""

    ac_weight: float = 1.0              # AC-GAN class-loss weight (G and D); used by the acgan discriminator only


def check_config(cfg: ConditionalModelConfig) -> None:
    if cfg.g_conditioning not in G_CONDITIONING:
        raise ValueError(f"g_conditioning must be one of {G_CONDITIONING}, got {cfg.g_conditioning!r}")
    if cfg.discriminator not in DISCRIMINATORS:
        raise ValueError(f"discriminator must be one of {DISCRIMINATORS}, got {cfg.discriminator!r}")
    if cfg.num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {cfg.num_classes}")
    if cfg.class_names and len(cfg.class_names) != cfg.num_classes:
        raise ValueError(f"{len(cfg.class_names)} class names for num_classes={cfg.num_classes}")
    if cfg.minibatch_kernels and cfg.discriminator == "concat":
        raise ValueError("minibatch_kernels needs the projection or acgan critic, not concat (its logit is a 4x4 conv)")


class ConditionalGenerator(nn.Module):
    """(z (B, z_dim), labels (B,)) -> images (B, C, R, R) in [-1, 1]."""

    def __init__(self, cfg: ConditionalModelConfig):
        super().__init__()
        check_config(cfg)
        self.num_classes, self.z_dim = cfg.num_classes, cfg.z_dim
        cbn = cfg.g_conditioning == "cbn"
        self.embed = None if cbn else LabelEmbeddingConcat(cfg.num_classes, cfg.embed_dim)
        norm = "virtual" if cfg.virtual_bn else "cbn" if cbn else "batch"
        self.net = DCGANGenerator(z_dim=cfg.z_dim, out_channels=cfg.channels, resolution=cfg.resolution,
                                  base_width=cfg.g_width, cond_dim=0 if cbn else cfg.embed_dim,
                                  norm=norm, num_classes=cfg.num_classes if cbn else 0)
        n, draw = cfg.virtual_bn, torch.Generator().manual_seed(REFERENCE_SEED)
        # On the CPU explicitly: a meta-device build (the config checks) draws them too. None: no VBN.
        z_ref = torch.randn(n, cfg.z_dim, generator=draw, device="cpu") if n else None  # (n, z_dim)
        self.register_buffer("reference_z", z_ref)
        self.register_buffer("reference_labels", torch.arange(n, device="cpu") % cfg.num_classes if n else None)  # (n,)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.training and self.reference_z is not None:  # virtual batch norm: the reference batch first
            return virtual_forward(self, lambda: self._render(self.reference_z, self.reference_labels),
                                   lambda: self._render(z, labels))
        return self._render(z, labels)

    def _render(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.embed is None:
            return self.net(z, labels)  # (B, C, R, R)
        if labels.dim() != 1 or labels.shape[0] != z.shape[0]:
            raise ValueError(f"labels must be (B,) with B={z.shape[0]}, got {tuple(labels.shape)}")
        return self.net(z, cond=self.embed(labels))  # (B, C, R, R)


class ConditionalDiscriminator(nn.Module):
    """(images (B, C, R, R), labels (B,)) -> logits (B,), or (logits, class_logits (B, K)) for acgan;
    `return_features=True`: (that, phi (B, C4 * 16)), D's flattened last feature map."""

    def __init__(self, cfg: ConditionalModelConfig):
        super().__init__()
        check_config(cfg)
        self.kind, self.channels, self.resolution = cfg.discriminator, cfg.channels, cfg.resolution
        concat = cfg.discriminator == "concat"
        self.embed = LabelEmbeddingConcat(cfg.num_classes, cfg.embed_dim) if concat else None
        body = DCGANDiscriminator(in_channels=cfg.channels + (cfg.embed_dim if concat else 0),
                                  resolution=cfg.resolution, base_width=cfg.d_width, norm=cfg.d_norm,
                                  spectral=cfg.spectral, out_features=concat)
        k = cfg.minibatch_kernels
        self.minibatch = MinibatchDiscrimination(body.feature_dim, k, MINIBATCH_KERNEL_DIMS) if k else None
        if concat:  # the DCGAN D whole, its 4x4 conv gives the logit
            self.body, self.head = body, None
        else:  # only its conv stack: the projection / AC head replaces the 4x4 logit conv
            self.body = body.blocks
            head_cls = ProjectionHead if cfg.discriminator == "projection" else AuxClassifierHead
            self.head = head_cls(body.feature_dim + k, cfg.num_classes, spectral=cfg.spectral)

    def forward(self, images: torch.Tensor, labels: torch.Tensor, return_features: bool = False):
        expected = (self.channels, self.resolution, self.resolution)
        if images.dim() != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"discriminator expects (B, {', '.join(map(str, expected))}), got {tuple(images.shape)}")
        if self.embed is not None:
            out, phi = self.body(self.embed.concat(images, labels))  # (B,), (B, C4 * 16)
        else:
            phi = self.body(images).flatten(1)  # (B, C4 * 16)
            seen = phi if self.minibatch is None else self.minibatch(phi)  # (B, C4 * 16 + k)
            out = self.head(seen, labels) if self.kind == "projection" else self.head(seen)  # (B,) | (B,), (B, K)
        return (out, phi) if return_features else out


def build_generator(cfg: ConditionalModelConfig) -> ConditionalGenerator:
    return ConditionalGenerator(cfg)


def build_discriminator(cfg: ConditionalModelConfig) -> ConditionalDiscriminator:
    return ConditionalDiscriminator(cfg)
