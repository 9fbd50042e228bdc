"""The attribute classifier that judges generated shapes: one softmax per attribute.

It is the shared `DomainClassifier` CNN (gan_app.metrics.domain_classifier) whose logits
(B, sum K) are split into one block per attribute (shape 4, colour 5, size 2, position 9),
trained with the summed cross-entropy on real images of the shapes `judge` split, which holds
every colour x shape pair (the generator never trains on it). Trained on the seen pairs only,
it took colour as a cue for shape and named the shape of real held-out images right 9% of the
time, so it could not judge held-out generations. Its accuracy on real images of the val and
held-out splits is stored with it: the ceiling of the generator's attribute accuracy.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from gan_app.metrics.domain_classifier import ClassifierConfig, DomainClassifier, fit_classifier

from .shapes import ATTRIBUTE_CLASSES, ATTRIBUTE_VALUES, ATTRIBUTES

CLASS_NAMES = tuple(f"{a}:{v}" for a, values in zip(ATTRIBUTES, ATTRIBUTE_VALUES) for v in values)


def split_logits(logits: torch.Tensor, sizes: tuple[int, ...] = ATTRIBUTE_CLASSES) -> list[torch.Tensor]:
    """(B, sum K) -> one (B, K_a) block per attribute."""
    if logits.shape[1] != sum(sizes):
        raise ValueError(f"expected {sum(sizes)} logits for attribute sizes {sizes}, got {logits.shape[1]}")
    return list(logits.split(sizes, dim=1))


def attribute_loss(logits: torch.Tensor, attributes: torch.Tensor, sizes: tuple[int, ...] = ATTRIBUTE_CLASSES) -> torch.Tensor:
    """Summed cross-entropy over attributes; logits (B, sum K), attributes (B, A) int64."""
    return sum(F.cross_entropy(block, attributes[:, k]) for k, block in enumerate(split_logits(logits, sizes)))


@torch.no_grad()
def predict(model: DomainClassifier, images: torch.Tensor, batch: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """images (N, 3, R, R) in [-1, 1] -> (features (N, F), per-attribute log-probabilities (N, sum K))."""
    model.eval()
    feats, logps = [], []
    for i in range(0, len(images), batch):
        f = model.features(images[i: i + batch])  # (b, F)
        blocks = split_logits(model.out(f))
        feats.append(f.numpy())
        logps.append(torch.cat([F.log_softmax(b, dim=1) for b in blocks], dim=1).numpy())
    return np.concatenate(feats), np.concatenate(logps)


def attribute_accuracy(logp: np.ndarray, attributes: np.ndarray, sizes: tuple[int, ...] = ATTRIBUTE_CLASSES) -> dict[str, float]:
    """Per-attribute accuracy of log-probabilities (N, sum K) against attributes (N, A), plus `all` (every one right)."""
    edges = np.cumsum((0,) + tuple(sizes))
    right = np.stack([logp[:, edges[k]: edges[k + 1]].argmax(1) == attributes[:, k] for k in range(len(sizes))], 1)
    out = {name: float(right[:, k].mean()) for k, name in enumerate(ATTRIBUTES[: len(sizes)])}
    out["all"] = float(right.all(1).mean())
    return out


def train_attribute_classifier(train_images: np.ndarray, train_attrs: np.ndarray, epochs: int = 3, batch: int = 128,
                               lr: float = 3e-3, width: int = 16, seed: int = 0, log=print) -> tuple[DomainClassifier, dict]:
    """Train on uint8 (N, 3, R, R) images and their (N, 4) attributes; returns the model and {seconds, ...}."""
    torch.manual_seed(seed)
    cfg = ClassifierConfig(channels=3, resolution=train_images.shape[-1], num_classes=sum(ATTRIBUTE_CLASSES), width=width)
    model = DomainClassifier(cfg)
    info = fit_classifier(model, torch.from_numpy(train_images), torch.from_numpy(train_attrs), attribute_loss,
                          epochs, batch, lr, seed, after_epoch=lambda e, loss: log(f"epoch {e}/{epochs}: loss {loss:.4f}"))
    return model, {**info, "attribute_sizes": list(ATTRIBUTE_CLASSES), "attributes": list(ATTRIBUTES)}
