"""Joint image-text embedding pretraining of the text encoder, before the GAN (Reed et al. 2016).

Reed et al. did not train their text encoder through the GAN: they pretrained it with a
structured joint embedding of images and captions (DS-SJE), then kept it fixed. Trained only
by the adversarial loss, our encoder's embedding barely separated the facts of a caption (the
shipped projection model drew shapes at chance). Here a small image encoder and the text
encoder are trained with the symmetric contrastive (InfoNCE) loss of CLIP (Radford et al. 2021),
a close relative of DS-SJE's ranking loss: each caption must pick its own image out of the
batch and each image its own caption, so the embedding must encode every fact that tells two
training images apart (shape, colour, size, position for the shapes set).

Captions of two batch items that state the same facts are treated as negatives of each other;
with 360 fact combinations and batch 128 that noise is small. Only the training split is used.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import Dataset

from gan_app.nn.dcgan import DCGANDiscriminator

from .text_encoder import TextEncoder


@dataclass
class PretrainResult:
    """Mean loss and in-batch caption -> image retrieval accuracy of the last `window` steps; the
    trained image encoder (eval mode) and log inverse temperature, for the GAN's matching loss."""

    steps: int
    loss: float
    retrieval_accuracy: float
    image_encoder: nn.Module
    log_scale: float


class ImageEncoder(nn.Module):
    """(B, 3, R, R) in [-1, 1] -> (B, dim): a batch-norm DCGAN conv stack, flattened, then linear.
    Only used to pretrain the text encoder; discarded afterwards."""

    def __init__(self, resolution: int, width: int, dim: int):
        super().__init__()
        body = DCGANDiscriminator(in_channels=3, resolution=resolution, base_width=width, norm="batch", spectral=False)
        self.blocks = body.blocks
        self.out = nn.Linear(body.feature_dim, dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.out(self.blocks(images).flatten(1))  # (B, dim)


def contrastive_loss(image_emb: torch.Tensor, text_emb: torch.Tensor, log_scale: torch.Tensor) -> tuple:
    """Symmetric InfoNCE of matching rows (B, D), (B, D); returns (loss, caption -> image top-1 accuracy)."""
    logits = log_scale.exp() * F.normalize(text_emb, dim=1) @ F.normalize(image_emb, dim=1).T  # (B, B)
    target = torch.arange(len(logits), device=logits.device)
    loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
    return loss, (logits.argmax(1) == target).float().mean()


def pretrain_text_encoder(encoder: TextEncoder, dataset: Dataset, resolution: int, steps: int,
                          batch_size: int = 128, lr: float = 1e-3, image_width: int = 32,
                          log_every: int = 100, window: int = 50) -> PretrainResult:
    """Train `encoder` in place on `dataset` items {"image", "tokens"}; torch's RNG decides batches.

    The temperature is learned as in CLIP (initial 1/0.07, capped at 100).
    """
    if len(dataset) < 2:
        raise ValueError("contrastive pretraining needs at least 2 captioned images")
    batch_size = min(batch_size, len(dataset))
    device = next(encoder.parameters()).device
    images_net = ImageEncoder(resolution, image_width, encoder.text_dim).to(device)
    log_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07), device=device))
    params = list(encoder.parameters()) + list(images_net.parameters()) + [log_scale]
    optimizer = torch.optim.Adam([p for p in params if p.requires_grad], lr=lr)
    encoder.train()
    frozen, encoder.frozen = encoder.frozen, False  # trainable here, whatever the GAN does with it later
    recent: list[tuple[float, float]] = []
    for step in range(1, steps + 1):
        idx = torch.randperm(len(dataset))[:batch_size].tolist()
        batch = dataset.__getitems__(idx)
        images, tokens = batch["image"].to(device), batch["tokens"].to(device)
        loss, accuracy = contrastive_loss(images_net(images), encoder(tokens), log_scale)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            log_scale.clamp_(max=math.log(100.0))
        recent = (recent + [(loss.item(), accuracy.item())])[-window:]
        if step % log_every == 0 or step == steps:
            print(f"text pretraining {step}/{steps}: contrastive loss {loss.item():.3f}, "
                  f"in-batch retrieval {accuracy.item():.2f}", file=sys.stderr, flush=True)
    encoder.frozen = frozen
    mean = [sum(v) / len(recent) for v in zip(*recent)]
    return PretrainResult(steps, mean[0], mean[1], images_net.eval(), log_scale.item())
