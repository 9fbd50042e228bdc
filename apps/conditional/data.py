"""Labelled image sets for the class-conditional head: MNIST-style IDX sets or an ImageFolder tree.

`--data` is `fashion-mnist`, `mnist`, `kmnist`, `class-shapes` (generated, see shapes.py), a folder
of IDX files, or a folder with one subfolder per class. A named set is searched in this order: Debian's dataset package path
(`/usr/share/datasets/<name>/`, see shared/DATA.md), the user cache
(`$XDG_CACHE_HOME/gan_app/datasets`), then a torchvision download into that cache.

Items are dicts {"image": (C, R, R) float32 in [-1, 1] (the generator's tanh range),
"label": int64 scalar}. 28x28 sets are centre-padded with black to the power-of-two
resolution the DCGAN blocks need (`fit="pad"`, keeps strokes pixel-exact) or resized
(`fit="resize"`); other sizes are always resized.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_app.data.idx import find_idx_split, has_idx_files
from gan_app.data.image_folder import LabelledImages, load_image_folder
from gan_app.data.ranges import to_model_range
from gan_app.errors import UserError

from .shapes import shapes

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")
# The built-in labelled shapes set; "shapes" is its name before session 9 (configs stored in
# checkpoints still say it), kept so they load unchanged.
SHAPES = "class-shapes"
SHAPES_NAMES = (SHAPES, "shapes")
NAMED = {  # name -> (class names, torchvision dataset class)
    "fashion-mnist": (FASHION_CLASSES, "FashionMNIST"),
    "mnist": (tuple(str(d) for d in range(10)), "MNIST"),
    "kmnist": (("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"), "KMNIST"),
}
SYSTEM_ROOT = Path("/usr/share/datasets")
VAL_EVERY = 10  # ImageFolder trees have no test split: every 10th image of each class is held out


@dataclass
class ConditionalDataConfig:
    """Where the labelled images come from and how they reach the model resolution."""

    path: str = "fashion-mnist"   # fashion-mnist | mnist | kmnist | class-shapes | folder of IDX files | ImageFolder tree
    fit: str = "pad"              # pad (centre, black border; only when smaller) | resize
    limit: int = 0                # use only the first N images of a split (0 = all): quick runs and tests


def cache_root() -> Path:
    """Where named sets are downloaded on a user's machine."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "gan_app" / "datasets"


def _download(name: str) -> Path:
    """torchvision download of a named set into the cache; the folder that holds its IDX files."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, NAMED[name][1])
    root = cache_root()
    try:
        cls(str(root), train=True, download=True)
        cls(str(root), train=False, download=True)
    except Exception as exc:  # network errors come in many types; the message below says what to do
        raise UserError(f"{name} is not on this machine and the download failed ({type(exc).__name__}); "
                        f"put its IDX files in a folder and pass --data FOLDER") from None
    return root / NAMED[name][1] / "raw"


def resolve_idx_folder(name: str) -> Path:
    """The folder with the IDX files of named set `name` (downloading it if needed)."""
    candidates = (SYSTEM_ROOT / name, cache_root() / NAMED[name][1] / "raw")
    for folder in candidates:
        if has_idx_files(folder):
            return folder
    return _download(name)


def load_split(cfg: ConditionalDataConfig, split: str, channels: int, resolution: int) -> LabelledImages:
    """`split` ("train" or "test") of `cfg.path` as (N, channels, resolution, resolution) uint8."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be train or test, got {split!r}")
    if cfg.fit not in ("pad", "resize"):
        raise UserError(f"data.fit must be pad or resize, got {cfg.fit!r}")
    key = cfg.path.lower()
    if key in SHAPES_NAMES:
        data = shapes(split, resolution)
    elif key in NAMED or (cfg.path and has_idx_files(cfg.path)):
        folder = resolve_idx_folder(key) if key in NAMED else Path(cfg.path)
        images, labels = find_idx_split(folder, split)  # (N, H, W), (N,)
        names = NAMED[key][0] if key in NAMED else tuple(str(i) for i in range(int(labels.max()) + 1))
        data = LabelledImages(images[:, None], labels, names)
    elif cfg.path and Path(cfg.path).is_dir():
        data = _folder_split(Path(cfg.path), split, channels, resolution)
    else:
        raise UserError(f"--data {cfg.path!r} is neither a named set ({', '.join(NAMED)}, {SHAPES}) nor a folder")
    if cfg.limit:
        data = LabelledImages(data.images[: cfg.limit], data.labels[: cfg.limit], data.class_names, data.notes)
    _check_labels(data, cfg.path)
    return _to_channels(fit_resolution(data, resolution, cfg.fit), channels)


def _folder_split(root: Path, split: str, channels: int, resolution: int) -> LabelledImages:
    data = load_image_folder(root, channels, resolution)
    rank = np.zeros(len(data.labels), dtype=np.int64)  # index of each image within its class
    for c in range(len(data.class_names)):
        members = np.flatnonzero(data.labels == c)
        rank[members] = np.arange(len(members))
    held_out = rank % VAL_EVERY == VAL_EVERY - 1
    keep = held_out if split == "test" else ~held_out
    if split == "train" and not keep.any():
        raise UserError(f"{root} has too few images to train on")
    return LabelledImages(data.images[keep], data.labels[keep], data.class_names, data.notes)


def _check_labels(data: LabelledImages, source: str) -> None:
    k = len(data.class_names)
    if len(data.labels) == 0:
        raise UserError(f"{source}: the split holds no images")
    if data.labels.min() < 0 or data.labels.max() >= k:
        raise UserError(f"{source}: labels outside 0..{k - 1}")


def fit_resolution(data: LabelledImages, resolution: int, fit: str) -> LabelledImages:
    """Centre-pad (black) or resize (N, C, H, W) uint8 images to (N, C, R, R)."""
    import torch
    import torch.nn.functional as F

    images = data.images
    h, w = images.shape[-2:]
    if (h, w) == (resolution, resolution):
        return data
    if fit == "pad" and h <= resolution and w <= resolution:
        top, left = (resolution - h) // 2, (resolution - w) // 2
        out = np.zeros(images.shape[:2] + (resolution, resolution), dtype=np.uint8)
        out[..., top: top + h, left: left + w] = images
    else:
        x = torch.from_numpy(images).float()  # (N, C, H, W) in [0, 255]
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", antialias=True, align_corners=False)
        out = x.round().clamp(0, 255).to(torch.uint8).numpy()
    return LabelledImages(out, data.labels, data.class_names, data.notes)


def _to_channels(data: LabelledImages, channels: int) -> LabelledImages:
    """Grey IDX images repeated to RGB for a 3-channel model (folders load in the model's channels)."""
    if data.images.shape[1] == channels:
        return data
    return LabelledImages(np.repeat(data.images, channels, axis=1), data.labels, data.class_names, data.notes)


class LabelledDataset:
    """torch-style Dataset over in-memory uint8 images: item i -> {"image", "label"}."""

    def __init__(self, data: LabelledImages):
        import torch

        self.images = torch.from_numpy(np.ascontiguousarray(data.images))  # (N, C, R, R) uint8
        self.labels = torch.from_numpy(data.labels)  # (N,) int64
        self.class_names = data.class_names

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        return {"image": to_model_range(self.images[i]), "label": self.labels[i]}
