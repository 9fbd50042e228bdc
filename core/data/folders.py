"""Image folder layouts: plain folders, paired folders matched by name, GoPro-style trees.

Pure path logic plus Pillow loading (no torch), so heads and the data-writing commands
share one implementation, down to what a `--data` folder holds (`data_folder`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..errors import UserError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})


def list_images(folder: Path, recursive: bool = True) -> list[Path]:
    """Sorted image files under `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder} is not a folder; pass a folder of images")
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def load_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB with EXIF orientation applied; UserError if unreadable."""
    try:
        with Image.open(path) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    except Image.DecompressionBombError:
        raise UserError(f"{path} declares more than {2 * Image.MAX_IMAGE_PIXELS:,} pixels (a decompression bomb, or a "
                        "huge scan); downscale it or leave it out of the training folder") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read image {path}: {exc}") from None


def match_pairs(dir_a: Path, dir_b: Path) -> list[tuple[Path, Path]]:
    """Files of `dir_a` and `dir_b` paired by relative path without suffix (blur/x.png ~ sharp/x.jpg)."""
    a = {p.relative_to(dir_a).with_suffix("").as_posix(): p for p in list_images(dir_a)}
    b = {p.relative_to(dir_b).with_suffix("").as_posix(): p for p in list_images(dir_b)}
    common = sorted(set(a) & set(b))
    if not common:
        raise UserError(f"no file names in common between {dir_a} and {dir_b}; paired folders match by name")
    return [(a[k], b[k]) for k in common]


def find_paired_layout(root: Path, names: tuple[str, str]) -> list[tuple[Path, Path]] | None:
    """Pairs for `root/<a>/ + root/<b>/`, or GoPro-style `root/*/<a>/ + root/*/<b>/`; None if neither.

    `names` is e.g. ("blur", "sharp"). GoPro's train/ and test/ roots hold one folder per
    sequence, each with blur/ and sharp/.
    """
    root = Path(root)
    a, b = names
    if (root / a).is_dir() and (root / b).is_dir():
        return match_pairs(root / a, root / b)
    sequences = sorted(d for d in root.glob("*") if (d / a).is_dir() and (d / b).is_dir())
    if sequences:
        return [pair for seq in sequences for pair in match_pairs(seq / a, seq / b)]
    return None


@dataclass(frozen=True)
class DataFolder:
    """What a `--data` folder holds: a paired layout (`pairs`, matched by name) or plain `images`.

    Exactly one is filled: `pairs` is None for a plain folder, `images` is empty for a paired one.
    """

    pairs: list[tuple[Path, Path]] | None
    images: list[Path]


def data_folder(path: str, names: tuple[str, str], expects: str) -> DataFolder:
    """Resolve the `--data` folder `path` (`~` expanded): `<a>/ + <b>/` pairs (`find_paired_layout`), else its images.

    The head checks its own built-in data names (e.g. `photos`) first. `expects` says what the
    head takes, e.g. "a folder of HR photos or one with lr/ and hr/"; it ends the one-line
    UserError for a path that is not a folder and for a folder with no images.
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        raise UserError(f"--data {path}: not a folder; pass {expects}")
    pairs = find_paired_layout(root, names)
    if pairs is not None:
        return DataFolder(pairs, [])
    images = list_images(root)
    if not images:
        raise UserError(f"--data {path}: no images found; pass {expects}")
    return DataFolder(None, images)
