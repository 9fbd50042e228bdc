"""Paired datasets: A/ + B/ folders, side-by-side A|B images, or pairs made from the offline photos.

Items are dicts {"source": A (in_channels, S, S), "target": B (out_channels, S, S)}, float32 in
[0, 1]. Both sides get the same random crop and flip. Images whose short side is below the
crop are upscaled (bicubic) first, as pix2pix resizes before cropping. All randomness comes
from torch's generator, so a seeded run (and its resume) is exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from gan_app.data.folders import data_folder, load_rgb
from gan_app.data.photos import offline_photos, training_photos
from gan_app.data.ranges import to_unit_tensor
from gan_app.errors import UserError

from .config import PHOTO_TASKS, PairedDataConfig

LUMA = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)  # ITU-R 601, as the runtime's RGB -> grey
EVAL_NOISE_SEED = 20_261_124  # held-out denoising noise comes from this stream only


def channels(x: torch.Tensor, count: int) -> torch.Tensor:
    """(3, H, W) RGB -> (count, H, W): unchanged for 3, luma for 1."""
    return x if count == 3 else (x * LUMA).sum(0, keepdim=True)


def photo_pair(task: str, clean: torch.Tensor, noise: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(A, B) for a photos task from a clean (3, H, W) image: A degraded (RGB, [0, 1]), B = clean."""
    if task == "denoise":
        return (clean + noise * torch.randn(clean.shape, generator=gen)).clamp(0, 1), clean
    if task == "colorize":
        return channels(clean, 1).expand(3, -1, -1), clean
    raise UserError(f"unknown photos task {task!r}; use {', '.join(f'photos:{t}' for t in PHOTO_TASKS)}")


def _crop_pair(a: torch.Tensor, b: torch.Tensor, size: int, flip: bool, gen: torch.Generator):
    """The same random `size` crop (and maybe flip) of aligned (C, H, W) images; upscales small ones."""
    if a.shape[1:] != b.shape[1:]:
        raise UserError(f"A and B differ in size ({tuple(a.shape[1:])} vs {tuple(b.shape[1:])}); pairs must align")
    h, w = a.shape[1:]
    if min(h, w) < size:
        factor = size / min(h, w)
        new = (max(size, round(h * factor)), max(size, round(w * factor)))
        a, b = (F.interpolate(t[None], size=new, mode="bicubic", align_corners=False)[0].clamp(0, 1) for t in (a, b))
        h, w = new
    y = int(torch.randint(0, h - size + 1, (1,), generator=gen))
    x = int(torch.randint(0, w - size + 1, (1,), generator=gen))
    a, b = a[:, y:y + size, x:x + size], b[:, y:y + size, x:x + size]
    if flip and bool(torch.rand(1, generator=gen) < 0.5):
        a, b = a.flip(-1), b.flip(-1)
    return a, b


class PairDataset(Dataset):
    """`count` items; `load(index, gen)` gives the (A, B) RGB pair (3, H, W) that is cropped, flipped, converted."""

    def __init__(self, cfg: PairedDataConfig, in_channels: int, out_channels: int, count: int,
                 load: Callable[[int, torch.Generator], tuple[torch.Tensor, torch.Tensor]]):
        self.cfg, self.in_channels, self.out_channels, self.count, self.load = cfg, in_channels, out_channels, count, load

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> dict:
        gen = torch.Generator().manual_seed(int(torch.randint(0, 2**62, (1,))))
        a, b = _crop_pair(*self.load(index, gen), self.cfg.crop, self.cfg.flip, gen)
        return {"source": channels(a, self.in_channels), "target": channels(b, self.out_channels)}


def folder_pairs(pairs: list[tuple[Path, Path]]) -> Callable:
    """A/ + B/ files matched by name."""
    return lambda index, gen: tuple(to_unit_tensor(load_rgb(p)) for p in pairs[index])


def side_by_side(files: list[Path]) -> Callable:
    """One folder of A|B images, each twice as wide as tall: left half A, right half B."""

    def load(index: int, gen: torch.Generator):
        both = to_unit_tensor(load_rgb(files[index]))  # (3, H, 2W)
        if both.shape[2] % 2:
            raise UserError(f"{files[index]} is {both.shape[2]} px wide; side-by-side A|B images need an even width")
        half = both.shape[2] // 2
        return both[:, :, :half], both[:, :, half:]

    return load


def photo_pairs(task: str, photos: list[np.ndarray], cfg: PairedDataConfig) -> Callable:
    """Pairs made on the fly from clean photos: a random crop is degraded by `task` (cheap: crop first)."""
    clean = [to_unit_tensor(p) for p in photos]

    def load(index: int, gen: torch.Generator):
        photo = clean[int(torch.randint(0, len(clean), (1,), generator=gen))]
        _, crop = _crop_pair(photo, photo, cfg.crop, False, gen)
        return photo_pair(task, crop, cfg.noise, gen)

    return load


def photo_task(path: str) -> str | None:
    """`denoise` for `photos:denoise` (checked), None for a folder path."""
    if not path.startswith("photos:"):
        return None
    task = path.split(":", 1)[1]
    if task not in PHOTO_TASKS:
        raise UserError(f"--data {path}: unknown photos task; use {', '.join(f'photos:{t}' for t in PHOTO_TASKS)}")
    return task


def build_dataset(cfg: PairedDataConfig, in_channels: int, out_channels: int, multiple: int) -> Dataset:
    """The training dataset for `cfg.path` (see `PairedDataConfig`)."""
    if cfg.crop % multiple:
        raise UserError(f"data.crop {cfg.crop} must be a multiple of {multiple} (2**model.depth)")
    if not cfg.path:
        raise UserError("no training data: pass --data DIR (A/ + B/, or side-by-side A|B images) or --data photos:denoise")
    args = (cfg, in_channels, out_channels)
    task = photo_task(cfg.path)
    if task is not None:
        return PairDataset(*args, cfg.epoch_size, photo_pairs(task, training_photos(), cfg))
    return PairDataset(*args, *folder_loader(cfg.path))


def folder_loader(path: str) -> tuple[int, Callable]:
    """(pair count, load(index, gen) -> full-size (A, B)) for A/ + B/ folders or side-by-side A|B images."""
    folder = data_folder(path, ("A", "B"), "A/ + B/ folders or a folder of side-by-side A|B images")
    if folder.pairs is not None:
        return len(folder.pairs), folder_pairs(folder.pairs)
    return len(folder.images), side_by_side(folder.images)


def held_out_pairs(task: str, noise: float, max_side: int = 512) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """[(name, A, B)] (H, W, 3) float32 in [0, 1] from the held-out photos, centre-cropped to `max_side`.

    Deterministic: denoising noise comes from EVAL_NOISE_SEED, never from training's streams.
    """
    gen = torch.Generator().manual_seed(EVAL_NOISE_SEED)
    out = []
    for name, img in offline_photos("held_out"):
        h, w = (min(s, max_side) for s in img.shape[:2])
        y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
        a, b = photo_pair(task, to_unit_tensor(img[y:y + h, x:x + w]), noise, gen)
        out.append((name, a.permute(1, 2, 0).numpy(), b.permute(1, 2, 0).numpy()))
    return out
