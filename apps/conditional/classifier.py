"""The domain classifier that ships beside the generator and feeds its metrics.

No ImageNet Inception is reachable here (shared/DATA.md), so the head trains a small CNN
on the real training set. Its class probabilities give the conditional accuracy and the
Inception-Score-style score; its penultimate layer (`feature_dim` units) gives the features
for the Fréchet distance. It takes the generator's own input format: (B, C, R, R) in [-1, 1].

The network, its safetensors format and loading live in `gan_app.metrics.domain_classifier`
(shared with the text-to-image head); this module trains it on class labels.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from gan_app.metrics.domain_classifier import ClassifierConfig, DomainClassifier, load_classifier, save_classifier

__all__ = ["ClassifierConfig", "DomainClassifier", "accuracy", "load_classifier", "save_classifier", "train_classifier"]


def _shift(images: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Random translation by up to `max_shift` px (one shift per batch; a cheap augmentation)."""
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2,), generator=gen).tolist()
    return torch.roll(images, shifts=(dy, dx), dims=(2, 3))


@torch.no_grad()
def accuracy(model: DomainClassifier, images: torch.Tensor, labels: torch.Tensor, batch: int = 500) -> float:
    """Top-1 accuracy on uint8 (N, C, R, R) images."""
    from .data import to_model_range

    model.eval()
    correct = 0
    for i in range(0, len(labels), batch):
        correct += (model(to_model_range(images[i: i + batch])).argmax(1) == labels[i: i + batch]).sum().item()
    return correct / len(labels)


def train_classifier(train_images: torch.Tensor, train_labels: torch.Tensor, test_images: torch.Tensor,
                     test_labels: torch.Tensor, cfg: ClassifierConfig, epochs: int = 4, batch: int = 128,
                     lr: float = 2e-3, seed: int = 0, log=print) -> tuple[DomainClassifier, dict]:
    """Train on uint8 (N, C, R, R) images; returns the model and {test_accuracy, epochs, seconds}."""
    from .data import to_model_range

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = DomainClassifier(cfg)
    steps = epochs * ((len(train_labels) + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(train_labels), generator=gen)
        for i in range(0, len(order), batch):
            idx = order[i: i + batch]
            x = _shift(to_model_range(train_images[idx]), 2, gen)  # (b, C, R, R)
            # no label smoothing: it caps every confidence, and so the IS-style score, below K
            loss = F.cross_entropy(model(x), train_labels[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        log(f"epoch {epoch + 1}/{epochs}: test accuracy {accuracy(model, test_images, test_labels):.4f}")
    info = {"test_accuracy": accuracy(model, test_images, test_labels), "epochs": epochs,
            "seconds": round(time.perf_counter() - start, 1), "train_images": len(train_labels)}
    return model.eval(), info
