"""Metrics of a class-conditional generator, measured with the head's own domain classifier.

Protocol (`evaluate_generator`): `n` samples (default 10,000), an equal share per class,
z ~ N(0, I) from a fixed seed. The domain classifier (shipped beside the model, trained on
the real training set) gives
- conditional accuracy: share of samples classified as the class they were asked for
  (ceiling: the classifier's accuracy on the real test set, reported too),
- IS-style score: exp(E KL(p(y|x) || p(y))) over 10 splits (max = number of classes),
- Fréchet distance of its penultimate features, samples vs the real test set, and the floor:
  the same distance for `n` real training images vs the real test set.
Per class (where a class has >= 2 samples): conditional accuracy and the Fréchet distance of
that class's samples vs that class's test images, and the overall distance's mean term
||mu_gen - mu_test||^2: they say which classes and which part (shifted means vs missing
variety) the gap comes from.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from gan_app.config import RunConfig
from gan_app.data.ranges import to_model_range
from gan_app.errors import UserError
from gan_app.metrics.feature_networks import ClassifierNetwork, compute
from gan_app.metrics.frechet import frechet_from_features
from gan_app.metrics.inception_score import inception_score
from gan_app.paths import CLASSIFIER_FILE, shipped_classifier

from .classifier import load_classifier
from .data import load_split

EVAL_SEED = 20_261_123
BATCH = 500


def balanced_labels(n: int, num_classes: int) -> torch.Tensor:
    """(n,) int64: 0, 1, ..., K-1, 0, 1, ... so every class gets n/K samples (+1 for the first n mod K)."""
    return torch.arange(n, dtype=torch.int64) % num_classes


@torch.no_grad()
def generate_samples(generator: Any, z_dim: int, labels: torch.Tensor, seed: int = EVAL_SEED) -> Iterator[torch.Tensor]:
    """Batches of generator(z, labels) images (B, C, R, R) in [-1, 1], z from a fixed seed."""
    gen = torch.Generator().manual_seed(seed)
    device = next(generator.parameters()).device
    for i in range(0, len(labels), BATCH):
        y = labels[i: i + BATCH]
        z = torch.randn(len(y), z_dim, generator=gen)  # (B, z_dim)
        yield generator(z.to(device), y.to(device)).float().clamp(-1, 1).cpu()


def _real_batches(images: np.ndarray) -> Iterator[torch.Tensor]:
    for i in range(0, len(images), BATCH):
        yield to_model_range(images[i: i + BATCH])  # (B, C, R, R) in [-1, 1]


def evaluate_generator(generator: Any, run: RunConfig, data: str | None = None, n: int = 10_000,
                       classifier: str | Path | None = None) -> dict:
    """The metrics above as a dict of numbers plus `protocol` and `feature_network` descriptions."""
    m = run.model
    model, names, info = load_classifier(classifier or shipped_classifier("conditional"))
    cfg = model.cfg
    if (cfg.num_classes, cfg.channels, cfg.resolution) != (m.num_classes, m.channels, m.resolution):
        raise UserError(f"the domain classifier is for {cfg.num_classes} classes, {cfg.channels}x{cfg.resolution}px "
                        f"but the generator makes {m.num_classes} classes, {m.channels}x{m.resolution}px; "
                        "train one on your data (`gan-app conditional-classifier`) and pass it with --classifier")
    if m.class_names and tuple(m.class_names) != names:
        raise UserError(f"the domain classifier's classes {list(names)} differ from the generator's {list(m.class_names)}; "
                        "pass one trained on its data with --classifier")
    network = ClassifierNetwork(model, f"domain classifier {info.get('name', CLASSIFIER_FILE)} "
                                       f"(penultimate {cfg.feature_dim}-d features)")
    data_cfg = dataclasses.replace(run.data, path=data or run.data.path, limit=0)
    test = load_split(data_cfg, "test", m.channels, m.resolution)
    train = load_split(dataclasses.replace(data_cfg, limit=min(n, 60_000)), "train", m.channels, m.resolution)

    labels = balanced_labels(n, m.num_classes)
    gen_feats, gen_probs = compute(network, generate_samples(generator, m.z_dim, labels))
    test_feats, test_probs = compute(network, _real_batches(test.images))
    train_feats, _ = compute(network, _real_batches(train.images))

    fd = frechet_from_features(gen_feats, test_feats)
    wanted, judged = labels.numpy(), gen_probs.argmax(1)
    per_class = {}
    for c, name in enumerate(names):
        mine, theirs = wanted == c, test.labels == c
        if mine.sum() >= 2 and theirs.sum() >= 2:
            per_class[name] = {"conditional_accuracy": float((judged[mine] == c).mean()),
                               "frechet_distance": frechet_from_features(gen_feats[mine], test_feats[theirs])}
    floor = frechet_from_features(train_feats, test_feats)
    is_mean, is_std = inception_score(gen_probs, splits=10)
    is_real, _ = inception_score(test_probs, splits=10)
    return {
        "conditional_accuracy": float((judged == wanted).mean()),
        "classifier_test_accuracy": float((test_probs.argmax(1) == test.labels).mean()),
        "is_score": is_mean, "is_score_std": is_std, "is_score_real_test": is_real,
        "frechet_distance": fd, "frechet_floor_real_train_vs_test": floor, "frechet_ratio_to_floor": fd / floor,
        "frechet_mean_term": float(np.sum((gen_feats.mean(0) - test_feats.mean(0)) ** 2)),
        "per_class": per_class,
        "samples": n, "classes": m.num_classes,
        "feature_network": network.name,
        "protocol": (f"{n} samples ({n // m.num_classes} per class), z ~ N(0, I) seed {EVAL_SEED}; domain classifier "
                     f"trained on the real training set: conditional accuracy = argmax == requested class; "
                     f"IS-style score exp(E KL(p(y|x)||p(y))) over 10 splits (max {m.num_classes}); Fréchet "
                     f"distance of penultimate features vs the {len(test.labels)} real test images; floor = "
                     f"{len(train.labels)} real training images vs the same test images"),
    }
