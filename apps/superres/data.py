"""Super-resolution datasets: HR-only folders (LR made on the fly), paired lr/+hr/ folders, offline photos.

Items are dicts {"source": LR (3, S/scale, S/scale), "target": HR (3, S, S)}, float32 in
[0, 1], S = `crop`. HR crops get random flips and 90-degree rotations before the LR is
made from them (bicubic or the realistic chain, degrade.py); paired crops are aligned
(the HR crop is the LR crop's footprint) and flipped together. All randomness comes
from torch's generator, so a seeded run (and its resume) is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from gan_app.data.folders import data_folder, load_rgb
from gan_app.data.photos import offline_photos, training_photos
from gan_app.data.ranges import to_unit_tensor
from gan_app.errors import UserError

from .degrade import CAMERA_TRAIN, PHOTO, bicubic_down, camera_down, realistic_down

DEGRADATIONS = ("bicubic", "realistic", "photo", "camera")
PAIR_FOLDERS = ("lr", "hr")    # a paired --data folder: lr/ + hr/, files matched by name
EXPECTS = "a folder of HR photos or one with lr/ and hr/"   # what --data takes, for the errors


@dataclass
class SRDataConfig:
    """Where HR (and LR) images come from and how LR images are made."""

    path: str = "photos"         # "photos" (offline set, train split), an HR-only folder, or a folder with lr/ + hr/
    crop: int = 128              # HR training crop, multiple of the scale
    degradation: str = "bicubic"  # bicubic | realistic (Real-ESRGAN's second order) | photo (the same, milder ranges)
                                 # | camera (one pass: blur, random-filter resize, noise, JPEG; degrade.CAMERA_TRAIN)
    epoch_size: int = 4096       # random crops per epoch (HR-only data)
    wallpapers: bool = False     # "photos" also takes the wallpaper photographs (core.data.photos.WALLPAPERS)
    bicubic_share: float = 0.0   # realistic/photo: this share of items is plain bicubic instead (clean input is
                                 # what users upscale too; without it the real model loses on it, session 12)

    def mixed_bicubic_share(self) -> float:
        """The share of items made by plain bicubic instead of the degradation: `bicubic_share`, or 0 when the
        degradation is bicubic anyway."""
        return 0.0 if self.degradation == "bicubic" else self.bicubic_share


def _seeded() -> tuple[torch.Generator, np.random.Generator]:
    """Per-item generators drawn from torch's global stream (seeded by the engine per step)."""
    gen = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,))))
    return gen, np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=gen)))


def _flip_rotate(img: np.ndarray, gen: torch.Generator) -> np.ndarray:
    """Random horizontal flip and 0/90/180/270-degree rotation of (H, W, C) (the 8 dihedral transforms)."""
    if torch.rand(1, generator=gen) < 0.5:
        img = img[:, ::-1]
    return np.rot90(img, int(torch.randint(0, 4, (1,), generator=gen)))


def _crop_at(img: np.ndarray, size: int, gen: torch.Generator, step: int = 1) -> tuple[int, int]:
    """Top-left (y, x) of a random `size` crop of (H, W, C), on a grid of `step` pixels."""
    h, w = img.shape[:2]
    if h < size or w < size:
        raise UserError(f"an image of {w}x{h} is smaller than the crop {size}; use larger images or --set data.crop=N")
    y = int(torch.randint(0, (h - size) // step + 1, (1,), generator=gen)) * step
    x = int(torch.randint(0, (w - size) // step + 1, (1,), generator=gen)) * step
    return y, x


def make_lr(hr: np.ndarray, scale: int, degradation: str, rng: np.random.Generator) -> np.ndarray:
    """(H, W, 3) uint8 -> (H/scale, W/scale, 3) uint8 by the named degradation."""
    if degradation == "bicubic":
        return bicubic_down(hr, scale)
    if degradation == "realistic":
        return realistic_down(hr, scale, rng)
    if degradation == "photo":
        return realistic_down(hr, scale, rng, PHOTO)
    if degradation == "camera":
        return camera_down(hr, scale, rng, CAMERA_TRAIN)
    raise UserError(f"unknown degradation {degradation!r}; use one of {', '.join(DEGRADATIONS)}")


class HROnlyDataset(Dataset):
    """HR photos -> random crops, flips, rotations -> LR made on the fly; `epoch_size` items per epoch."""

    def __init__(self, photos: list[np.ndarray], cfg: SRDataConfig, scale: int):
        self.photos = [p for p in photos if min(p.shape[:2]) >= cfg.crop]
        if not self.photos:
            raise UserError(f"no image is at least {cfg.crop}px on its short side; lower --set data.crop")
        self.cfg, self.scale = cfg, scale

    def __len__(self) -> int:
        return self.cfg.epoch_size

    def __getitem__(self, index: int) -> dict:
        gen, rng = _seeded()
        photo = self.photos[int(torch.randint(0, len(self.photos), (1,), generator=gen))]
        y, x = _crop_at(photo, self.cfg.crop, gen)
        hr = np.ascontiguousarray(_flip_rotate(photo[y:y + self.cfg.crop, x:x + self.cfg.crop], gen))
        lr = make_lr(hr, self.scale, self._degradation(rng), rng)
        return {"source": to_unit_tensor(lr), "target": to_unit_tensor(hr)}

    def _degradation(self, rng: np.random.Generator) -> str:
        """The configured degradation, or bicubic for a `bicubic_share` of the items (no draw without one,
        so runs without a share keep their random stream)."""
        share = self.cfg.mixed_bicubic_share()
        if share > 0 and rng.uniform() < share:
            return "bicubic"
        return self.cfg.degradation


class PairedSRDataset(Dataset):
    """Real LR/HR pairs (lr/ + hr/ matched by name, HR = scale x LR): aligned random crops and flips."""

    def __init__(self, pairs: list[tuple[Path, Path]], cfg: SRDataConfig, scale: int):
        self.pairs, self.cfg, self.scale = pairs, cfg, scale

    def __len__(self) -> int:
        return len(self.pairs)

    def __getitem__(self, index: int) -> dict:
        lr_path, hr_path = self.pairs[index]
        lr, hr = load_rgb(lr_path), load_rgb(hr_path)
        s, size = self.scale, self.cfg.crop // self.scale
        if hr.shape[:2] != (lr.shape[0] * s, lr.shape[1] * s):
            raise UserError(f"{hr_path} is not {s}x the size of {lr_path}; paired HR must be exactly scale x LR")
        gen, _ = _seeded()
        y, x = _crop_at(lr, size, gen)
        lr, hr = lr[y:y + size, x:x + size], hr[y * s:(y + size) * s, x * s:(x + size) * s]
        if torch.rand(1, generator=gen) < 0.5:
            lr, hr = lr[:, ::-1], hr[:, ::-1]
        return {"source": to_unit_tensor(lr), "target": to_unit_tensor(hr)}


def build_dataset(cfg: SRDataConfig, scale: int) -> Dataset:
    """The dataset for `cfg.path`: photos (train split) | lr/+hr/ folder | HR-only folder."""
    if cfg.crop % scale or cfg.crop < 4 * scale:
        raise UserError(f"data.crop must be a multiple of the scale {scale} and at least {4 * scale}, got {cfg.crop}")
    if cfg.degradation not in DEGRADATIONS:
        raise UserError(f"unknown degradation {cfg.degradation!r}; use one of {', '.join(DEGRADATIONS)}")
    if not 0.0 <= cfg.bicubic_share <= 1.0:
        raise UserError(f"data.bicubic_share is the share of bicubic items, from 0 to 1; got {cfg.bicubic_share}")
    if cfg.path == "photos":
        return HROnlyDataset(training_photos(wallpapers=cfg.wallpapers), cfg, scale)   # held-out photos never enter training
    folder = data_folder(cfg.path, PAIR_FOLDERS, EXPECTS)
    if folder.pairs is not None:
        return PairedSRDataset(folder.pairs, cfg, scale)
    return HROnlyDataset([load_rgb(p) for p in folder.images], cfg, scale)


EVAL_SPLITS = ("bicubic", "realworld")
EVAL_SEED = 20_261_202   # the realworld split's degradations come from this stream only; training never uses it


def evaluation_pairs(scale: int, max_side: int = 512, split: str = "bicubic") -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Held-out photos: [(name, LR (h, w, 3), HR (h*scale, w*scale, 3))], float32 in [0, 1].

    HR is the centre crop of at most `max_side` per side, cut to a multiple of `scale`. LR:
    `bicubic`: its bicubic downsample (`bicubic_down`, uint8 like an LR file); `realworld`:
    `camera_down` with `CAMERA_EVAL` (blur sigma 0.4-1.6, random downscaling filter, noise
    0.5-4/255, JPEG q55-90). Deterministic.
    """
    if split not in EVAL_SPLITS:
        raise UserError(f"unknown evaluation split {split!r}; use one of {', '.join(EVAL_SPLITS)}")
    rng = np.random.default_rng(EVAL_SEED + scale)
    out = []
    for name, img in offline_photos("held_out"):
        h, w = (min(s, max_side) // scale * scale for s in img.shape[:2])
        y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
        hr = np.ascontiguousarray(img[y:y + h, x:x + w])
        lr = bicubic_down(hr, scale) if split == "bicubic" else camera_down(hr, scale, rng)
        out.append((name, lr.astype(np.float32) / 255.0, hr.astype(np.float32) / 255.0))
    return out
