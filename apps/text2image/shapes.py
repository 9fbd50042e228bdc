"""`--data captioned-shapes`: a generated captioned set whose captions state checkable facts.

Every 32x32 (any power of two) RGB image holds one anti-aliased shape (drawn with Pillow at
4x and downsampled) on a dark random background, with jittered colour, size and position.
Its four attributes are exact labels: shape, colour, size (small/large) and position on a
3x3 grid. Captions state all four in one of several phrasings with synonyms, so a caption
names the same facts in many word orders.

Splits (fixed seeds, so every process renders the same images):
- "train": only colour x shape pairs *not* in `HELDOUT_PAIRS`,
- "val": the same seen pairs, other images,
- "heldout": only the `HELDOUT_PAIRS` (compositional generalisation: never seen in training),
- "judge": every pair: the training set of the attribute classifier that judges generated
  images (a judge trained on the seen pairs only learns colour as a cue for shape and fails
  on real held-out images; the generator never sees this split).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

SHAPES = ("circle", "square", "triangle", "cross")
COLOURS = ("red", "green", "blue", "yellow", "white")
SIZES = ("small", "large")
POSITIONS = ("top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right")
ATTRIBUTES = ("shape", "colour", "size", "position")
ATTRIBUTE_VALUES = (SHAPES, COLOURS, SIZES, POSITIONS)
ATTRIBUTE_CLASSES = tuple(len(v) for v in ATTRIBUTE_VALUES)  # classes per attribute: (4, 5, 2, 9)
HELDOUT_PAIRS = (("red", "triangle"), ("green", "circle"), ("blue", "square"), ("yellow", "cross"))

RGB = {"red": (220, 40, 40), "green": (40, 200, 60), "blue": (50, 80, 230), "yellow": (230, 210, 40),
       "white": (235, 235, 235)}
CENTRES = (0.22, 0.5, 0.78)            # grid centres as a fraction of the image side
RADII = {"small": 0.11, "large": 0.2}   # shape "radius" as a fraction of the image side
SYNONYMS = {"small": ("small", "tiny"), "large": ("large", "big"), "center": ("center", "middle")}
TEMPLATES = (
    "a {size} {colour} {shape} at the {position}",
    "{position}: a {colour} {shape}, {size}",
    "there is a {size} {shape} in {colour} at the {position}",
    "{size} {colour} {shape}, {position}",
    "the {shape} is {colour} and {size}, placed at the {position}",
    "at the {position} a {colour} {shape} that is {size}",
)
SEEDS = {"train": 11, "val": 12, "heldout": 13, "judge": 14}
SUPERSAMPLE = 4


@dataclass
class ShapesSplit:
    """images (N, 3, R, R) uint8; attributes (N, 4) int64 (shape, colour, size, position)."""

    images: np.ndarray
    attributes: np.ndarray


def allowed_pairs(split: str) -> list[tuple[int, int]]:
    """(shape index, colour index) pairs a split draws from."""
    held = {(SHAPES.index(s), COLOURS.index(c)) for c, s in HELDOUT_PAIRS}
    every = [(s, c) for s in range(len(SHAPES)) for c in range(len(COLOURS))]
    if split == "judge":
        return every
    return sorted(held) if split == "heldout" else [p for p in every if p not in held]


def vocabulary() -> tuple[str, ...]:
    """Every word a shapes caption can contain, sorted."""
    from .tokens import words

    values = [v for group in ATTRIBUTE_VALUES for v in group] + [w for s in SYNONYMS.values() for w in s]
    return tuple(sorted({w for t in TEMPLATES for w in words(t.format(size="", colour="", shape="", position=""))}
                        | {w for v in values for w in words(v)}))


def caption(attrs: np.ndarray, template: int, synonym: int = 0) -> str:
    """The caption of attributes (4,) in phrasing `template`, synonym choice `synonym` (0 or 1)."""
    shape, colour, size, position = (ATTRIBUTE_VALUES[k][int(attrs[k])] for k in range(4))
    pick = lambda w: " ".join(SYNONYMS.get(p, (p,))[synonym % len(SYNONYMS.get(p, (p,)))] for p in w.split())  # noqa: E731
    return TEMPLATES[template % len(TEMPLATES)].format(size=pick(size), colour=colour, shape=shape, position=pick(position))


def all_captions(attrs: np.ndarray) -> list[str]:
    """Every phrasing of attributes (4,): templates x synonym choices."""
    return [caption(attrs, t, s) for t in range(len(TEMPLATES)) for s in (0, 1)]


def _polygon(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if shape == "square":
        r *= 0.85  # same visual area as the circle, roughly
        return [(cx - r, cy - r), (cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    if shape == "triangle":
        return [(cx, cy - r), (cx + 0.95 * r, cy + 0.8 * r), (cx - 0.95 * r, cy + 0.8 * r)]
    t = r / 3  # cross: a plus sign with arms of width 2r/3
    return [(cx - t, cy - r), (cx + t, cy - r), (cx + t, cy - t), (cx + r, cy - t), (cx + r, cy + t), (cx + t, cy + t),
            (cx + t, cy + r), (cx - t, cy + r), (cx - t, cy + t), (cx - r, cy + t), (cx - r, cy - t), (cx - t, cy - t)]


def render(attrs: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """(3, size, size) uint8 image of attributes (4,) with random jitter from `rng`."""
    shape, colour, size_name, position = (ATTRIBUTE_VALUES[k][int(attrs[k])] for k in range(4))
    big = size * SUPERSAMPLE
    background = tuple(int(v) for v in rng.integers(0, 50, 3))
    canvas = Image.new("RGB", (big, big), background)
    row, col = divmod(int(attrs[3]), 3)
    cx = (CENTRES[col] + rng.uniform(-0.03, 0.03)) * big
    cy = (CENTRES[row] + rng.uniform(-0.03, 0.03)) * big
    r = RADII[size_name] * rng.uniform(0.9, 1.1) * big
    fill = tuple(int(np.clip(v + rng.integers(-25, 26), 0, 255)) for v in RGB[colour])
    draw = ImageDraw.Draw(canvas)
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    else:
        draw.polygon(_polygon(shape, cx, cy, r), fill=fill)
    small = canvas.resize((size, size), Image.Resampling.BOX)  # area average = anti-aliasing
    return np.asarray(small).transpose(2, 0, 1).copy()  # (3, size, size)


def sample_attributes(split: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, 4) int64 attributes: a uniform colour x shape pair of `split`, uniform size and position."""
    pairs = np.array(allowed_pairs(split))  # (P, 2)
    chosen = pairs[rng.integers(0, len(pairs), n)]  # (n, 2)
    return np.stack([chosen[:, 0], chosen[:, 1], rng.integers(0, len(SIZES), n), rng.integers(0, len(POSITIONS), n)],
                    axis=1).astype(np.int64)


def shapes_split(split: str, n: int, size: int = 32) -> ShapesSplit:
    """The `n` images of `split` ("train", "val", "heldout" or "judge") at `size` px; the same on every call."""
    if split not in SEEDS:
        raise ValueError(f"split must be one of {tuple(SEEDS)}, got {split!r}")
    rng = np.random.default_rng(SEEDS[split])
    attrs = sample_attributes(split, n, rng)
    images = np.stack([render(a, size, rng) for a in attrs]) if n else np.zeros((0, 3, size, size), np.uint8)
    return ShapesSplit(images, attrs)
