"""The domain classifier that ships beside the generator and feeds its metrics.

No ImageNet Inception is reachable here (shared/DATA.md), so the head trains a small CNN
on the real training set. Its class probabilities give the conditional accuracy and the
Inception-Score-style score; its penultimate layer (`feature_dim` units) gives the features
for the Fréchet distance. It takes the generator's own input format: (B, C, R, R) in [-1, 1].

The network, its safetensors format and loading live in `gan_app.metrics.domain_classifier`
(shared with the text-to-image head); this module trains it on class labels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from pathlib import Path

from gan_app.data.ranges import to_model_range
from gan_app.metrics import domain_classifier
from gan_app.metrics.domain_classifier import ClassifierConfig, DomainClassifier, fit_classifier, random_shift, save_classifier

__all__ = ["ClassifierConfig", "DomainClassifier", "accuracy", "load_classifier", "save_classifier", "train_classifier"]


def load_classifier(path: str | Path) -> tuple[DomainClassifier, tuple[str, ...], dict]:
    """(model in eval mode, class names, info); a missing file's error names this head's training verb."""
    return domain_classifier.load_classifier(path, "`gan-app conditional-classifier -o PATH`")


@torch.no_grad()
def accuracy(model: DomainClassifier, images: torch.Tensor, labels: torch.Tensor, batch: int = 500) -> float:
    """Top-1 accuracy on uint8 (N, C, R, R) images."""
    model.eval()
    correct = 0
    for i in range(0, len(labels), batch):
        correct += (model(to_model_range(images[i: i + batch])).argmax(1) == labels[i: i + batch]).sum().item()
    return correct / len(labels)


def train_classifier(train_images: torch.Tensor, train_labels: torch.Tensor, test_images: torch.Tensor,
                     test_labels: torch.Tensor, cfg: ClassifierConfig, epochs: int = 4, batch: int = 128,
                     lr: float = 2e-3, seed: int = 0, log=print) -> tuple[DomainClassifier, dict]:
    """Train on uint8 (N, C, R, R) images; returns the model and {test_accuracy, epochs, seconds}.

    Plain cross-entropy (no label smoothing: it caps every confidence, and so the IS-style score,
    below K) with random shifts of up to 2 px."""
    torch.manual_seed(seed)
    model = DomainClassifier(cfg)
    info = fit_classifier(model, train_images, train_labels, F.cross_entropy, epochs, batch, lr, seed,
                          augment=lambda x, gen: random_shift(x, 2, gen),
                          after_epoch=lambda e, _: log(f"epoch {e}/{epochs}: test accuracy "
                                                       f"{accuracy(model, test_images, test_labels):.4f}"))
    return model, {"test_accuracy": accuracy(model, test_images, test_labels), **info}
