"""Captioned image folders on disk (torch-free): generic `img.png + img.txt`, and Reed et al.'s CUB/Oxford-102 layout.

- Generic: every image under the folder with a same-stem `.txt` beside it holding one caption
  per line (blank lines ignored); images without a caption file are skipped and counted.
- CUB-200 / Oxford-102 as distributed with Reed et al. 2016: `root/images/<class>/<name>.jpg`
  and `root/text_c10/<class>/<name>.txt` (ten captions per image). Detected by `text_c10/`.

Caption files must be UTF-8: anything else is a one-line UserError naming the file.
Images are centre-cropped to a square and resized (bicubic) to the model resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from gan_app.data.folders import list_images, load_rgb
from gan_app.errors import UserError

VAL_EVERY = 10  # folders have no split: every 10th image (sorted by path) is validation


@dataclass
class CaptionedImages:
    """images (N, 3, R, R) uint8, captions[i] (>= 1 strings), attributes (N, A) int64 or None."""

    images: np.ndarray
    captions: list[list[str]]
    attributes: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def read_captions(path: Path) -> list[str]:
    """Non-empty stripped lines of a UTF-8 caption file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"caption file {path} is not UTF-8 text; re-save it as UTF-8") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def square_resize(rgb: np.ndarray, size: int) -> np.ndarray:
    """(H, W, 3) uint8 -> (3, size, size) uint8: centre square crop, bicubic resize."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    image = Image.fromarray(rgb[top: top + side, left: left + side])
    if side != size:
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    return np.asarray(image).transpose(2, 0, 1).copy()


def _pairs(root: Path) -> tuple[list[tuple[Path, Path]], int]:
    """(image, caption file) pairs of either layout, and how many images had no captions."""
    if (root / "text_c10").is_dir() and (root / "images").is_dir():
        images = list_images(root / "images")
        captions = [root / "text_c10" / p.relative_to(root / "images").with_suffix(".txt") for p in images]
    else:
        images = list_images(root)
        captions = [p.with_suffix(".txt") for p in images]
    pairs = [(i, c) for i, c in zip(images, captions) if c.is_file()]
    return pairs, len(images) - len(pairs)


def load_captioned_folder(root: str | Path, split: str, size: int, limit: int = 0) -> CaptionedImages:
    """The `split` ("train" or "val") of a captioned folder at `size` px; `limit` caps the items (0 = all)."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root} is not a folder; pass a folder of images with same-name .txt captions, or `shapes`")
    pairs, skipped = _pairs(root)
    if not pairs:
        raise UserError(f"no captioned images under {root}: put `name.txt` (one caption per line) beside each "
                        "`name.png`, or use the CUB/Oxford layout (images/ + text_c10/)")
    pairs = [p for k, p in enumerate(pairs) if (k % VAL_EVERY == 0) == (split != "train")]
    if limit:
        pairs = pairs[:limit]
    images, captions = [], []
    for image_path, caption_path in pairs:
        lines = read_captions(caption_path)
        if not lines:
            raise UserError(f"caption file {caption_path} is empty; write at least one caption line")
        images.append(square_resize(load_rgb(image_path), size))
        captions.append(lines)
    notes = [f"{skipped} image(s) under {root} have no caption file and were skipped"] if skipped else []
    stack = np.stack(images) if images else np.zeros((0, 3, size, size), np.uint8)
    return CaptionedImages(stack, captions, None, notes)
