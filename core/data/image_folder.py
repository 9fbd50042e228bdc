"""A labelled image tree: `root/<class name>/*.png`, one subfolder per class (torchvision's layout).

Images may have any size and colour mode: each is converted to `channels` (1 grey, 3 RGB) and
resized to `size` x `size` (Pillow, bicubic) when it is not that size already; the returned
notes say how many were resized, so a user sees it instead of it happening silently. Loaded
whole into memory as uint8: the sets this serves (class-conditional generators) are small images.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import UserError
from .folders import list_images


@dataclass
class LabelledImages:
    """images (N, C, S, S) uint8, labels (N,) int64 in [0, len(class_names)), notes for the user."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


def class_folders(root: str | Path) -> dict[str, list[Path]]:
    """Class name -> sorted image files, for every subfolder of `root` (sorted by name).

    Raises UserError when `root` has fewer than two class folders or a class folder holds no images.
    """
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root} is not a folder; pass a folder with one subfolder of images per class")
    classes = {d.name: list_images(d) for d in sorted(root.iterdir()) if d.is_dir() and not d.name.startswith(".")}
    if len(classes) < 2:
        raise UserError(f"{root} has {len(classes)} class folder(s); a class-conditional model needs at least 2 "
                        "(layout: {root}/<class name>/<image files>)")
    empty = [name for name, files in classes.items() if not files]
    if empty:
        raise UserError(f"class folder(s) {', '.join(empty)} under {root} hold no images; add images or remove them")
    return classes


def _load(path: Path, channels: int) -> Image.Image:
    try:
        with Image.open(path) as im:
            return ImageOps.exif_transpose(im).convert("L" if channels == 1 else "RGB")
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read image {path}: {exc}") from None


def load_image_folder(root: str | Path, channels: int, size: int) -> LabelledImages:
    """Every image under `root/<class>/`, as (N, channels, size, size) uint8 with class labels."""
    if channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels}")
    classes = class_folders(root)
    images, labels, sizes = [], [], set()
    resized = 0
    for index, files in enumerate(classes.values()):
        for path in files:
            im = _load(path, channels)
            sizes.add(im.size)
            if im.size != (size, size):
                im = im.resize((size, size), Image.Resampling.BICUBIC)
                resized += 1
            arr = np.asarray(im, dtype=np.uint8)  # (S, S) or (S, S, 3)
            images.append(arr[None] if channels == 1 else arr.transpose(2, 0, 1))  # (C, S, S)
            labels.append(index)
    notes = []
    if resized:
        found = ", ".join(f"{w}x{h}" for w, h in sorted(sizes)[:5]) + (" ..." if len(sizes) > 5 else "")
        notes.append(f"note: resized {resized} of {len(images)} images to {size}x{size} (found sizes {found})")
    return LabelledImages(np.stack(images), np.asarray(labels, dtype=np.int64), tuple(classes), notes)
