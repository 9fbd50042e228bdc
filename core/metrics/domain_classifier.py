"""A small CNN "domain classifier" that heads train on their own real data to feed their metrics.

No ImageNet Inception is reachable offline (shared/DATA.md), so a head trains this network on
its real training set: its logits judge generated images (class or attribute accuracy, IS-style
scores) and its penultimate layer (`feature_dim` units) gives the Fréchet-distance features.
It takes the generator's own input format: (B, C, R, R) in [-1, 1]. Saved as safetensors with
its config, class names and info in the header (never a pickle). The class-conditional head
uses one softmax over its classes; the text-to-image head splits the logits into one softmax
per attribute.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn as nn

from gan_app.data.ranges import to_model_range
from gan_app.errors import UserError, pickle_hint

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


def random_shift(images: torch.Tensor, max_shift: int, gen: torch.Generator) -> torch.Tensor:
    """Random translation by up to `max_shift` px (one shift per batch; a cheap augmentation)."""
    dy, dx = torch.randint(-max_shift, max_shift + 1, (2,), generator=gen).tolist()
    return torch.roll(images, shifts=(dy, dx), dims=(2, 3))


def fit_classifier(model: DomainClassifier, images: torch.Tensor, targets: torch.Tensor,
                   loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], epochs: int, batch: int, lr: float,
                   seed: int = 0, augment: Callable | None = None,
                   after_epoch: Callable[[int, float], None] | None = None) -> dict:
    """Train `model` in place on uint8 images (N, C, R, R) and their targets (N, ...) with AdamW +
    one-cycle lr; `augment(x, generator)` alters each float batch; `after_epoch(epoch, last loss)`
    reports. Returns {epochs, seconds, train_images}; the model is left in eval mode.

    Shared by the heads' classifiers (classes, or one softmax per attribute): only the loss differs.
    """
    gen = torch.Generator().manual_seed(seed)
    steps = epochs * ((len(targets) + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(targets), generator=gen)
        for i in range(0, len(order), batch):
            idx = order[i: i + batch]
            x = to_model_range(images[idx])  # (b, C, R, R)
            if augment is not None:
                x = augment(x, gen)
            loss = loss_fn(model(x), targets[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        if after_epoch is not None:
            after_epoch(epoch + 1, loss.item())
    model.eval()
    return {"epochs": epochs, "seconds": round(time.perf_counter() - start, 1), "train_images": len(targets)}


def check_classifier_output(output: Path, epochs: int, overwrite: bool) -> None:
    """Refuse a bad `-o` / `--epochs` of a classifier-training verb before any training is done."""
    if output.suffix != ".safetensors":
        raise UserError(f"--output must end in .safetensors, got {output}")
    if output.exists() and not overwrite:
        raise UserError(f"{output} already exists; pass --overwrite to replace it")
    if epochs < 1:
        raise UserError(f"--epochs must be >= 1, got {epochs}")


def save_classifier(model: DomainClassifier, path: Path, class_names: tuple[str, ...], info: dict) -> Path:
    """Write the weights and their description (config, class names, info) atomically as safetensors."""
    from safetensors.torch import save_file

    from gan_app.runtime.files import atomic_output

    meta = {"format": FORMAT, "config": json.dumps(asdict(model.cfg)), "class_names": json.dumps(list(class_names)),
            "info": json.dumps(info)}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(Path(path)) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp), metadata=meta)
    return Path(path)


def load_classifier(path: str | Path, train_hint: str) -> tuple[DomainClassifier, tuple[str, ...], dict]:
    """(model in eval mode, class names, info) from a file written by `save_classifier`.

    `train_hint` is the head's command that the not-found error suggests, e.g. "`gan-app HEAD-classifier -o PATH`".
    """
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise UserError(f"domain classifier {path} not found; train one with {train_hint}")
    try:
        with safe_open(str(path), "pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError) as exc:   # a pickle, a truncated file, ...: never more than a header read
        raise UserError(f"domain classifier {path} is not a readable safetensors file ({exc}); train one with "
                        f"{train_hint}" + pickle_hint(path)) from None
    if meta.get("format") != FORMAT:
        raise UserError(f"{path} is not a gan_app domain classifier (format {meta.get('format')!r})")
    model = DomainClassifier(ClassifierConfig(**json.loads(meta["config"])))
    model.load_state_dict(load_file(str(path)))
    return model.eval(), tuple(json.loads(meta["class_names"])), json.loads(meta["info"])
