"""Super-resolution evaluation: PSNR/SSIM (RGB and Y, border crop = scale) and high-frequency energy.

Protocol (`PROTOCOL`): held-out photos (never trained on), centre crop <= 512 px cut to a
multiple of the scale, LR = Pillow bicubic downsample rounded to uint8; outputs
clipped to [0, 1]; PSNR and SSIM on RGB and on BT.601 luma (Y, as SR papers), with
`scale` border pixels removed. Bicubic upsampling of the same LR is the baseline.
High-frequency energy is the mean spectral power of Y above the LR's Nyquist frequency
(what the LR cannot represent), reported relative to the ground truth's: 1.0 is the
ground truth's amount of fine detail, bicubic and PSNR-trained models sit well below.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from gan_app.config import RunConfig
from gan_app.data.folders import data_folder, load_rgb
from gan_app.errors import UserError
from gan_app.metrics.fidelity import psnr, ssim

from .degrade import bicubic_down
from .data import EXPECTS, PAIR_FOLDERS, evaluation_pairs

PROTOCOL = ("held-out photos (gan_app.data.photos.HELD_OUT), centre crop <= 512 px (multiple of scale), "
            "LR = Pillow bicubic downsample to uint8; output clipped to [0,1]; PSNR/SSIM on RGB and on Y (BT.601), "
            "border crop = scale px; hf_ratio = spectral power of Y above the LR Nyquist frequency / ground truth's")


def upscale_pil(lr: np.ndarray, scale: int, method: Image.Resampling) -> np.ndarray:
    """(h, w, 3) float in [0, 1] -> (h*scale, w*scale, 3) float32 with a Pillow filter (bicubic, Lanczos)."""
    img = Image.fromarray(np.round(np.clip(lr, 0, 1) * 255).astype(np.uint8))
    out = img.resize((img.width * scale, img.height * scale), method)
    return np.asarray(out, dtype=np.float32) / 255.0


@torch.no_grad()
def upscale_torch(generator: torch.nn.Module, lr: np.ndarray) -> np.ndarray:
    """Run `generator` on (h, w, 3) float in [0, 1]; (h*s, w*s, 3) float32 clipped to [0, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(lr, dtype=np.float32)).permute(2, 0, 1)[None]   # (1, 3, h, w)
    return generator(x)[0].clamp(0, 1).permute(1, 2, 0).numpy()


def high_frequency_energy(img: np.ndarray, scale: int) -> float:
    """Mean spectral power of the luma of (H, W, 3) [0, 1] above 1 / (2 * scale) cycles per pixel.

    A Hann window suppresses the spectral leakage of the image borders.
    """
    y = img[..., :3] @ np.array([0.299, 0.587, 0.114])
    y = (y - y.mean()) * np.outer(np.hanning(y.shape[0]), np.hanning(y.shape[1]))
    power = np.abs(np.fft.fft2(y)) ** 2 / y.size
    fy, fx = np.meshgrid(np.fft.fftfreq(y.shape[0]), np.fft.fftfreq(y.shape[1]), indexing="ij")
    return float(power[np.hypot(fy, fx) > 0.5 / scale].mean())


def score(pred: np.ndarray, hr: np.ndarray, scale: int) -> dict:
    """PSNR/SSIM (RGB and Y, border crop `scale`) and high-frequency energy ratio of `pred` vs `hr`."""
    return {"psnr": psnr(pred, hr, crop=scale), "ssim": ssim(pred, hr, crop=scale),
            "psnr_y": psnr(pred, hr, crop=scale, y_channel=True), "ssim_y": ssim(pred, hr, crop=scale, y_channel=True),
            "hf_ratio": high_frequency_energy(pred, scale) / high_frequency_energy(hr, scale)}


def user_pairs(data: str, scale: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """[(name, LR, HR)] float32 from a folder with lr/ + hr/, or HR-only photos (bicubic LR)."""
    folder = data_folder(data, PAIR_FOLDERS, EXPECTS)
    if folder.pairs is not None:
        return [(h.stem, load_rgb(lr) / np.float32(255), load_rgb(h) / np.float32(255)) for lr, h in folder.pairs]
    out = []
    for path in folder.images:
        img = load_rgb(path)
        hr = img[: img.shape[0] // scale * scale, : img.shape[1] // scale * scale]
        out.append((path.stem, bicubic_down(hr, scale) / np.float32(255), hr / np.float32(255)))
    return out


def evaluate_generator(generator: torch.nn.Module, run: RunConfig, data: str | None) -> dict:
    """Per-image and mean metrics of bicubic and the model; `psnr_gain` = model - bicubic (RGB, dB)."""
    scale = run.model.scale
    generator.eval()
    rows = []
    for name, lr, hr in (evaluation_pairs(scale) if data is None else user_pairs(data, scale)):
        if hr.shape[:2] != (lr.shape[0] * scale, lr.shape[1] * scale):
            raise UserError(f"{name}: HR is not {scale}x the LR size")
        row = {"image": name}
        for method, pred in (("bicubic", upscale_pil(lr, scale, Image.Resampling.BICUBIC)),
                             ("model", upscale_torch(generator, lr))):
            row.update({f"{k}_{method}": v for k, v in score(pred, hr, scale).items()})
        rows.append(row)
    keys = [k for k in rows[0] if k != "image"]
    mean = {k: float(np.mean([r[k] for r in rows])) for k in keys}
    mean["psnr_gain"] = mean["psnr_model"] - mean["psnr_bicubic"]
    mean["psnr_y_gain"] = mean["psnr_y_model"] - mean["psnr_y_bicubic"]
    protocol = PROTOCOL if data is None else f"{data}: " + PROTOCOL.split("; ", 1)[1]
    return {**mean, "images": rows, "protocol": protocol}
