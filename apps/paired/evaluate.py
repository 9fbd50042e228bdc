"""Paired evaluation: PSNR/SSIM of the input A and of the model output G(A) against B.

Protocol: for `photos:TASK` runs, the held-out offline photos (never trained on),
centre-cropped to at most 512 px, degraded by the task (denoising noise from a dedicated
seed stream); otherwise a user's paired folder given with `--data` (A/ + B/ or
side-by-side). Full images, RGB, no border crop, [0, 1] range.
"""

from __future__ import annotations

import numpy as np
import torch

from gan_app.config import RunConfig
from gan_app.errors import UserError
from gan_app.metrics.fidelity import psnr, ssim
from gan_app.runtime.tiling import pad_to_multiple

from .data import channels, folder_loader, held_out_pairs, photo_task


def _pairs(run: RunConfig, data: str | None) -> tuple[list[tuple[str, np.ndarray, np.ndarray]], str]:
    """[(name, A, B)] (H, W, 3) float32 in [0, 1] and the protocol line."""
    path = data or run.data.path
    task = photo_task(path)
    if task is not None:
        return (held_out_pairs(task, run.data.noise),
                f"held-out offline photos, {task} (noise seed stream EVAL_NOISE_SEED), RGB, full image <= 512 px, [0,1]")
    if data is None:
        raise UserError("this model was trained on a folder: pass --data with held-out pairs (A/ + B/ or side-by-side)")
    count, load = folder_loader(data)
    gen = torch.Generator().manual_seed(0)  # the loaders take a generator; folder pairs draw nothing from it
    pairs = [load(i, gen) for i in range(count)]
    rows = [(str(i), a.permute(1, 2, 0).numpy(), b.permute(1, 2, 0).numpy()) for i, (a, b) in enumerate(pairs)]
    return rows, f"paired folder {data}, RGB, full image, [0,1]"


@torch.no_grad()
def translate(generator: torch.nn.Module, image: np.ndarray, in_channels: int, multiple: int) -> np.ndarray:
    """G on an (H, W, 3) [0, 1] image, reflect-padded to `multiple` and cropped back; (H, W, C_out)."""
    h, w = image.shape[:2]
    x = channels(torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))), in_channels).numpy()
    x = torch.from_numpy(pad_to_multiple(x, multiple))[None]  # (1, C_in, H', W')
    return generator(x)[0, :, :h, :w].permute(1, 2, 0).clamp(0, 1).numpy()


def evaluate_generator(generator: torch.nn.Module, run: RunConfig, data: str | None) -> dict:
    """Mean (and per-image) PSNR/SSIM of input and model output against the target."""
    generator.eval()
    m = run.model
    pairs, protocol = _pairs(run, data)
    rows = []
    for name, a, b in pairs:
        out = translate(generator, a, m.in_channels, 2 ** m.depth)
        out = np.repeat(out, 3, axis=2) if out.shape[2] == 1 else out
        rows.append({"image": name, "psnr_input": psnr(a, b), "ssim_input": ssim(a, b),
                     "psnr_model": psnr(out, b), "ssim_model": ssim(out, b)})
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("psnr_input", "ssim_input", "psnr_model", "ssim_model")}
    mean["psnr_gain"] = mean["psnr_model"] - mean["psnr_input"]
    return {**mean, "images": rows, "protocol": protocol}
