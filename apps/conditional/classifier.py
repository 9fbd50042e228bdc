"""The domain classifier that ships beside the generator and feeds its metrics.

No ImageNet Inception is reachable here (shared/DATA.md), so the head trains a small CNN
on the real training set. Its class probabilities give the conditional accuracy and the
Inception-Score-style score; its penultimate layer (`feature_dim` units) gives the features
for the Fréchet distance. It takes the generator's own input format: (B, C, R, R) in [-1, 1].

Saved as safetensors with its config and test accuracy in the header (never a pickle).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from gan_app.errors import UserError

FORMAT = "gan_app.domain_classifier/1"


@dataclass
class ClassifierConfig:
    channels: int = 1
    resolution: int = 32
    num_classes: int = 10
    width: int = 32            # widths width, 2*width, 4*width over three 2x poolings
    feature_dim: int = 128     # penultimate features (the Fréchet-distance space)


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class DomainClassifier(nn.Module):
    """images (B, C, R, R) in [-1, 1] -> class logits (B, K); `features` -> (B, feature_dim)."""

    def __init__(self, cfg: ClassifierConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        self.body = nn.Sequential(
            _conv(cfg.channels, w), nn.MaxPool2d(2),          # R/2
            _conv(w, 2 * w), _conv(2 * w, 2 * w), nn.MaxPool2d(2),  # R/4
            _conv(2 * w, 4 * w), nn.MaxPool2d(2),             # R/8
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),            # (B, 4w)
            nn.Linear(4 * w, cfg.feature_dim), nn.ReLU(inplace=True),
        )
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(cfg.feature_dim, cfg.num_classes)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        expected = (self.cfg.channels, self.cfg.resolution, self.cfg.resolution)
        if images.dim() != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"classifier expects (B, {', '.join(map(str, expected))}), got {tuple(images.shape)}")
        return self.body(images)  # (B, feature_dim)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.out(self.drop(self.features(images)))  # (B, K)


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


def save_classifier(model: DomainClassifier, path: Path, class_names: tuple[str, ...], info: dict) -> Path:
    from safetensors.torch import save_file

    meta = {"format": FORMAT, "config": json.dumps(asdict(model.cfg)), "class_names": json.dumps(list(class_names)),
            "info": json.dumps(info)}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata=meta)
    return Path(path)


def load_classifier(path: str | Path) -> tuple[DomainClassifier, tuple[str, ...], dict]:
    """(model in eval mode, class names, info) from a file written by `save_classifier`."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise UserError(f"domain classifier {path} not found; train one with `gan-app conditional-classifier -o PATH`")
    with safe_open(str(path), "pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != FORMAT:
        raise UserError(f"{path} is not a gan_app domain classifier (format {meta.get('format')!r})")
    model = DomainClassifier(ClassifierConfig(**json.loads(meta["config"])))
    model.load_state_dict(load_file(str(path)))
    return model.eval(), tuple(json.loads(meta["class_names"])), json.loads(meta["info"])
