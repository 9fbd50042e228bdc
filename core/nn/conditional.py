"""Class conditioning for generators and discriminators.

Four standard ways to feed a class label y in [0, num_classes) to a GAN:
- `LabelEmbeddingConcat`: cGAN (Mirza & Osindero 2014): a learned embedding of y concatenated
  to z (vector) or to an image/feature map (broadcast over H, W).
- `ConditionalBatchNorm2d`: batch statistics shared by all classes, per-class gamma/beta
  (de Vries et al. 2017; used by the projection-discriminator and BigGAN generators).
- `ProjectionHead`: projection discriminator (Miyato & Koyama 2018):
  logit = w . phi(x) + b + <embed(y), phi(x)>.
- `AuxClassifierHead`: AC-GAN (Odena et al. 2017): D predicts real/fake and the class.

Labels are int64 tensors of shape (B,). Out-of-range labels raise in `nn.Embedding`.
`VectorConditionalBatchNorm2d` is the same idea for a continuous condition (a sentence
embedding): gamma and beta are linear in the vector (DF-GAN-style affine text fusion).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from gan_app.losses.improved import VirtualBatchNorm2d

from .spectral import maybe_spectral


def _check_labels(labels: torch.Tensor, batch: int | None = None) -> None:
    if labels.dim() != 1 or labels.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"labels must be an integer tensor of shape (B,), got {labels.dtype} {tuple(labels.shape)}")
    if batch is not None and labels.shape[0] != batch:
        raise ValueError(f"labels batch {labels.shape[0]} does not match input batch {batch}")


class LabelEmbeddingConcat(nn.Module):
    """Learned label embedding to concatenate with z or with an image / feature map.

    `forward(labels)` -> (B, dim); `as_map(labels, h, w)` -> (B, dim, h, w) (constant over space);
    `concat(x, labels)` appends the embedding to `x` (B, N) or (B, C, H, W) along dim 1, so the
    consumer's input width grows by `dim`.
    """

    def __init__(self, num_classes: int, dim: int):
        super().__init__()
        if num_classes < 1 or dim < 1:
            raise ValueError("num_classes and dim must be >= 1")
        self.num_classes, self.dim = num_classes, dim
        self.embed = nn.Embedding(num_classes, dim)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        _check_labels(labels)
        return self.embed(labels)  # (B, dim)

    def as_map(self, labels: torch.Tensor, h: int, w: int) -> torch.Tensor:
        e = self(labels)  # (B, dim)
        return e[:, :, None, None].expand(-1, -1, h, w)  # (B, dim, h, w)

    def concat(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _check_labels(labels, x.shape[0])
        if x.dim() == 2:
            return torch.cat([x, self(labels)], dim=1)  # (B, N + dim)
        if x.dim() == 4:
            return torch.cat([x, self.as_map(labels, x.shape[2], x.shape[3])], dim=1)  # (B, C + dim, H, W)
        raise ValueError(f"concat expects (B, N) or (B, C, H, W), got {tuple(x.shape)}")


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm2d whose affine scale/shift is looked up per class.

    Statistics (and running averages for eval) are shared across classes; gamma starts at 1 and
    beta at 0 for every class, so at init it equals plain BatchNorm2d. `virtual=True` takes the
    statistics from a fixed reference batch instead (`VirtualBatchNorm2d`, Salimans et al.).
    Call as `cbn(x, labels)`: x (B, C, H, W), labels (B,) -> (B, C, H, W).
    """

    def __init__(self, num_features: int, num_classes: int, virtual: bool = False):
        super().__init__()
        self.num_features, self.num_classes = num_features, num_classes
        self.bn = VirtualBatchNorm2d(num_features, affine=False) if virtual else nn.BatchNorm2d(num_features, affine=False)
        self.gamma = nn.Embedding(num_classes, num_features)
        self.beta = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.gamma.weight)
        nn.init.zeros_(self.beta.weight)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        _check_labels(labels, x.shape[0])
        g = self.gamma(labels)[:, :, None, None]  # (B, C, 1, 1)
        b = self.beta(labels)[:, :, None, None]  # (B, C, 1, 1)
        return self.bn(x) * g + b


class VectorConditionalBatchNorm2d(nn.Module):
    """BatchNorm2d whose per-channel scale/shift are linear in a condition vector.

    gamma = 1 + Linear(cond), beta = Linear(cond); both linears start at zero, so at init it
    equals plain BatchNorm2d and the condition's influence is learned from there.
    Call as `cbn(x, cond)`: x (B, C, H, W), cond (B, cond_dim) -> (B, C, H, W).
    """

    def __init__(self, num_features: int, cond_dim: int):
        super().__init__()
        self.num_features, self.cond_dim = num_features, cond_dim
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gamma = nn.Linear(cond_dim, num_features)
        self.beta = nn.Linear(cond_dim, num_features)
        for layer in (self.gamma, self.beta):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        if cond.shape != (x.shape[0], self.cond_dim):
            raise ValueError(f"cond must be (B, {self.cond_dim}) with B={x.shape[0]}, got {tuple(cond.shape)}")
        g = 1.0 + self.gamma(cond)[:, :, None, None]  # (B, C, 1, 1)
        b = self.beta(cond)[:, :, None, None]  # (B, C, 1, 1)
        return self.bn(x) * g + b


class ProjectionHead(nn.Module):
    """Projection discriminator output: logit = linear(phi) + <embed(y), phi>.

    phi (B, in_features) are D's pooled features (Miyato & Koyama sum-pool the last map);
    returns logits (B,). `spectral=True` spectral-normalises the linear layer and the embedding,
    as in the paper.
    """

    def __init__(self, in_features: int, num_classes: int, spectral: bool = False):
        super().__init__()
        self.linear = maybe_spectral(nn.Linear(in_features, 1), spectral)
        self.embed = maybe_spectral(nn.Embedding(num_classes, in_features), spectral)

    def forward(self, phi: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if phi.dim() != 2:
            raise ValueError(f"phi must be (B, F), got {tuple(phi.shape)}")
        _check_labels(labels, phi.shape[0])
        proj = (self.embed(labels) * phi).sum(dim=1)  # (B,)
        return self.linear(phi).squeeze(1) + proj  # (B,)


class AuxClassifierHead(nn.Module):
    """AC-GAN discriminator output: (adv_logit (B,), class_logits (B, num_classes)) from phi (B, F).

    Both outputs are raw logits: use BCE-with-logits / cross-entropy on them.
    """

    def __init__(self, in_features: int, num_classes: int, spectral: bool = False):
        super().__init__()
        self.adv = maybe_spectral(nn.Linear(in_features, 1), spectral)
        self.cls = maybe_spectral(nn.Linear(in_features, num_classes), spectral)

    def forward(self, phi: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if phi.dim() != 2:
            raise ValueError(f"phi must be (B, F), got {tuple(phi.shape)}")
        return self.adv(phi).squeeze(1), self.cls(phi)  # (B,), (B, K)
