"""The denoise head's torch side: networks, training data and evaluation."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from gan_app.data.folders import list_images, load_rgb
from gan_app.data.photos import offline_photos
from gan_app.errors import UserError
from gan_app.metrics.fidelity import psnr
from gan_app.nn.patchgan import PatchDiscriminator


class DenoiseNet(nn.Module):
    """(B, 3, H, W) noisy in [0, 1] -> (B, 3, H, W) clean estimate: x minus a predicted noise map."""

    def __init__(self, width: int, depth: int):
        super().__init__()
        layers = [nn.Conv2d(3, width, 3, padding=1), nn.ReLU()]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(width, 3, 3, padding=1))
        nn.init.zeros_(layers[-1].weight)  # start as the identity: output = input
        nn.init.zeros_(layers[-1].bias)
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.body(x)).clamp(0, 1)  # (B, 3, H, W)


def build(cfg) -> tuple[nn.Module, nn.Module]:
    """(generator, discriminator): gan-app's PatchGAN judges 2-layer patches of the output."""
    return DenoiseNet(cfg.width, cfg.depth), PatchDiscriminator(3, cfg.d_width, n_layers=2, norm="none")


def clean_images(path: str, split: str = "train") -> list[np.ndarray]:
    """(H, W, 3) uint8 photos: a user's folder, or the offline photo set's `split`."""
    if path == "photos":
        return [image for _, image in offline_photos(split)]
    return [load_rgb(p) for p in list_images(path)]


class NoisyCrops(Dataset):
    """Random crops of clean images: {"source": noisy (3, S, S), "target": clean (3, S, S)} in [0, 1]."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.images = [torch.from_numpy(a).permute(2, 0, 1).float() / 255 for a in clean_images(cfg.path)]
        self.images = [x for x in self.images if min(x.shape[1:]) >= cfg.crop]
        if not self.images:
            raise UserError(f"no image of at least {cfg.crop} px in {cfg.path}; pass --data FOLDER")

    def __len__(self) -> int:
        return self.cfg.epoch_size

    def __getitem__(self, index: int) -> dict:
        # torch's global RNG: the engine seeds it per step, so runs and resumes are reproducible.
        image = self.images[int(torch.randint(len(self.images), ()))]
        y = int(torch.randint(image.shape[1] - self.cfg.crop + 1, ()))
        x = int(torch.randint(image.shape[2] - self.cfg.crop + 1, ()))
        clean = image[:, y:y + self.cfg.crop, x:x + self.cfg.crop]
        noisy = (clean + self.cfg.sigma * torch.randn(clean.shape)).clamp(0, 1)
        return {"source": noisy, "target": clean}


@torch.no_grad()
def evaluate(generator: nn.Module, run, data: str | None) -> dict:
    """Mean PSNR of noisy input and of the output against clean images: `data` (a folder), else the held-out photos."""
    gen = torch.Generator().manual_seed(0)  # the same noise every evaluation
    rows = []
    for image in clean_images(data or "photos", "held_out"):
        clean = torch.from_numpy(image).permute(2, 0, 1).float()[None] / 255  # (1, 3, H, W)
        noisy = (clean + run.data.sigma * torch.randn(clean.shape, generator=gen)).clamp(0, 1)
        out = generator(noisy)
        as_hwc = lambda t: t[0].permute(1, 2, 0).numpy()  # noqa: E731
        rows.append((psnr(as_hwc(noisy), as_hwc(clean)), psnr(as_hwc(out), as_hwc(clean))))
    noisy_db, model_db = np.mean(rows, axis=0)
    return {"psnr_input": float(noisy_db), "psnr_model": float(model_db),
            "protocol": f"{data or 'held-out photos'}, Gaussian noise sigma {run.data.sigma:g} (seed 0), full images, RGB, [0, 1]"}
