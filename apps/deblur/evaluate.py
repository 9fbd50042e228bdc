"""Deblur evaluation: PSNR/SSIM of blurred input vs model on held-out pairs.

Protocol: held-out photos (never trained on) blurred with kernels from a dedicated
seed stream (`data.EVAL_KERNEL_SEED`), or a user's paired folder (blur/ + sharp/ or
GoPro layout) with `--data`. Full images, RGB, no border crop, [0, 1] range.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from gan_app.config import RunConfig
from gan_app.data.folders import find_paired_layout, load_rgb
from gan_app.errors import UserError
from gan_app.metrics.fidelity import psnr, ssim

from .data import evaluation_pairs
from .model import size_multiple


def _pairs(run: RunConfig, data: str | None) -> list[tuple[str, np.ndarray, np.ndarray]]:
    if data is None:
        return evaluation_pairs(run.data)
    pairs = find_paired_layout(Path(data), ("blur", "sharp"))
    if pairs is None:
        raise UserError(f"--data {data}: expected blur/ and sharp/ folders (or a GoPro root)")
    return [(b.stem, load_rgb(b) / 255.0, load_rgb(s) / 255.0) for b, s in pairs]


@torch.no_grad()
def restore(generator: torch.nn.Module, blurred: np.ndarray, multiple: int) -> np.ndarray:
    """Run `generator` on an (H, W, 3) [0, 1] image, reflect-padded to a multiple of `multiple`."""
    h, w = blurred.shape[:2]
    x = torch.from_numpy(np.ascontiguousarray(blurred, dtype=np.float32)).permute(2, 0, 1)[None]
    ph, pw = -h % multiple, -w % multiple
    x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode="reflect")
    return generator(x)[0, :, :h, :w].permute(1, 2, 0).numpy()


def evaluate_generator(generator: torch.nn.Module, run: RunConfig, data: str | None) -> dict:
    """Per-image and mean PSNR/SSIM of the blurred input and of the model's output."""
    generator.eval()
    rows = []
    for name, blurred, sharp in _pairs(run, data):
        out = restore(generator, blurred, size_multiple(run.model))
        rows.append({"image": name, "psnr_input": psnr(blurred, sharp), "ssim_input": ssim(blurred, sharp),
                     "psnr_model": psnr(out, sharp), "ssim_model": ssim(out, sharp)})
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("psnr_input", "ssim_input", "psnr_model", "ssim_model")}
    mean["psnr_gain"] = mean["psnr_model"] - mean["psnr_input"]
    mean["ssim_gain"] = mean["ssim_model"] - mean["ssim_input"]
    protocol = ("held-out photos x held-out camera-shake kernels (seed stream EVAL_KERNEL_SEED), RGB, full image, [0,1]"
                if data is None else f"paired folder {data}, RGB, full image, [0,1]")
    return {**mean, "images": rows, "protocol": protocol}
