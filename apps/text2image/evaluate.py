"""Metrics of a text-to-image generator on the shapes set, judged by the shipped attribute classifier.

Protocol (`evaluate_generator`), for each evaluation split — "seen" (the val split: colour x
shape pairs seen in training, new images and noise) and "heldout" (colour x shape pairs never
seen in training) — `n` items, each with one caption (phrasings and synonyms in turn), z drawn
exactly as `gan-app text2img` draws it (numpy, a fixed seed, truncated at its default unless
`truncation` says otherwise):
- per-attribute accuracy: the classifier's argmax per attribute == the caption's fact; `all`:
  every attribute right. Ceiling: the classifier on the split's real images (reported too).
- R-precision (R = 1 of 100, as in AttnGAN's protocol): for each generated image, the true
  caption and 99 captions of other items with different facts are scored by the classifier's
  log-likelihood of the facts each caption states (sum over attributes of log p(value | image));
  the score is the share of images whose true caption ranks first.
- Fréchet distance of the classifier's penultimate features, generated vs the split's real
  images; floor: `n` real training images vs the same real images.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_app.config import RunConfig
from gan_app.data.ranges import to_model_range
from gan_app.errors import UserError
from gan_app.metrics.domain_classifier import load_classifier
from gan_app.metrics.frechet import frechet_from_features
from gan_app.paths import CLASSIFIER_FILE, shipped_classifier
from gan_app.runtime.sampling import normal_latents

from .classifier import attribute_accuracy, predict
from .data import SHAPES, SHAPES_NAMES, load_split, vocabulary_for
from .generate import TRUNCATION
from .shapes import ATTRIBUTE_CLASSES, TEMPLATES, caption

EVAL_SEED = 20_261_123
R_CANDIDATES = 100
BATCH = 250


def eval_captions(attributes: np.ndarray) -> list[str]:
    """One caption per item, cycling through every phrasing and synonym choice."""
    return [caption(a, i % len(TEMPLATES), (i // len(TEMPLATES)) % 2) for i, a in enumerate(attributes)]


@torch.no_grad()
def generate_for(generator: Any, tokens: torch.Tensor, z_dim: int, truncation: float = TRUNCATION,
                 seed: int = EVAL_SEED) -> torch.Tensor:
    """Generated images (N, 3, R, R) in [-1, 1] for token rows (N, L), z from a fixed seed."""
    generator.eval()
    z = torch.from_numpy(normal_latents(np.random.default_rng(seed), (len(tokens), z_dim), truncation))  # (N, Z)
    out = [generator(z[i: i + BATCH], generator.encode(tokens[i: i + BATCH])).float().clamp(-1, 1)
           for i in range(0, len(tokens), BATCH)]
    return torch.cat(out)


def r_precision(logp: np.ndarray, attributes: np.ndarray, candidates: int = R_CANDIDATES, seed: int = EVAL_SEED) -> float:
    """Share of items whose own facts outscore `candidates - 1` other items' different facts.

    logp (N, sum K) per-attribute log-probabilities of the generated images; attributes (N, A).
    """
    rng = np.random.default_rng(seed)
    edges = np.cumsum((0,) + ATTRIBUTE_CLASSES)[:-1]  # offset of each attribute block
    score = lambda i, facts: logp[i, edges + facts].sum(-1)  # noqa: E731  facts (..., A) -> (...,)
    hits = 0
    for i in range(len(attributes)):
        others = np.flatnonzero((attributes != attributes[i]).any(1))
        wrong = attributes[rng.choice(others, candidates - 1, replace=len(others) < candidates - 1)]  # (R-1, A)
        hits += bool(score(i, attributes[i]) > score(i, wrong).max())
    return hits / len(attributes)


def evaluate_generator(generator: Any, run: RunConfig, data: str | None = None, n: int = 2000,
                       classifier: str | Path | None = None, truncation: float = TRUNCATION) -> dict:
    """The metrics above, per split, as a flat dict of numbers plus `protocol`."""
    m = run.model
    path = data or run.data.path
    if path not in SHAPES_NAMES:
        raise UserError(f"evaluation needs the shapes set's exact facts; `{path}` has none (use --data {SHAPES})")
    model, _, info = load_classifier(classifier or shipped_classifier("text2image"), "`gan-app text2image-classifier -o PATH`")
    if model.cfg.resolution != m.resolution or model.cfg.num_classes != sum(ATTRIBUTE_CLASSES):
        raise UserError(f"the attribute classifier is for {model.cfg.resolution}px shapes, the generator makes "
                        f"{m.resolution}px; train one with `gan-app text2image-classifier --resolution {m.resolution}`")
    vocab = vocabulary_for(m)
    cfg = dataclasses.replace(run.data, path=SHAPES, limit=0, shapes_eval=n, shapes_train=n)
    train_feats, _ = predict(model, to_model_range(load_split(cfg, "train", m.resolution).images))
    metrics: dict = {}
    for name, split in (("seen", "val"), ("heldout", "heldout")):
        real = load_split(cfg, split, m.resolution)
        tokens = torch.from_numpy(vocab.encode(eval_captions(real.attributes)).tokens)  # (n, L)
        gen_feats, gen_logp = predict(model, generate_for(generator, tokens, m.z_dim, truncation))
        real_feats, real_logp = predict(model, to_model_range(real.images))
        for key, value in attribute_accuracy(gen_logp, real.attributes).items():
            metrics[f"{name}_accuracy_{key}"] = value
        for key, value in attribute_accuracy(real_logp, real.attributes).items():
            metrics[f"{name}_classifier_real_accuracy_{key}"] = value
        metrics[f"{name}_r_precision"] = r_precision(gen_logp, real.attributes)
        metrics[f"{name}_frechet_distance"] = frechet_from_features(gen_feats, real_feats)
        metrics[f"{name}_frechet_floor_real_train"] = frechet_from_features(train_feats, real_feats)
    metrics.update({
        "samples_per_split": n,
        "truncation": truncation,
        "feature_network": f"attribute classifier {info.get('name', CLASSIFIER_FILE)} (penultimate {model.cfg.feature_dim}-d)",
        "protocol": (f"{n} generated images per split (seen = val split, held-out = unseen colour x shape pairs), one "
                     f"caption each cycling through {len(TEMPLATES)} phrasings x 2 synonym choices, z ~ N(0, I) "
                     f"(numpy seed {EVAL_SEED}, {f'truncated at {truncation}' if truncation else 'untruncated'}); accuracy = attribute classifier argmax per attribute vs the caption's fact; "
                     f"R-precision = true caption ranked first among {R_CANDIDATES} (99 with other facts) by the "
                     "classifier's summed per-attribute log-likelihood; Fréchet distance of its penultimate features vs "
                     f"the split's {n} real images, floor = {n} real training images vs the same"),
    })
    return metrics
