"""`--motion`: straight-line motion blur, found in the photo and removed by regularised deconvolution.

Why a classical step in front of the learned models: they are trained on hand shake up to ~45 px, and a
long straight streak (a passing car, a panning shot, OpenCV's licence-plate sample) is outside their range
at any size. It is also the one blur that can be read reliably from the photo alone: a straight blur of
length L multiplies the spectrum by a sinc whose zeros repeat every 1/L cycles per pixel along the motion,
so the cepstrum (inverse FFT of the log magnitude spectrum) has a sharp negative peak at distance L in the
motion's direction (Rom 1975, Cannon 1976). Deconvolution is a Tikhonov-regularised inverse filter,
conj(H) / (|H|^2 + s |grad|^2 + s): the gradient term damps noise at high frequencies, the constant one
keeps the sinc's zeros at low frequencies from ringing as stripes across flat areas.

Measured (docs/benchmarks.md, session 20): on training photos blurred by straight lines of 10-60 px (noise,
JPEG or 8-bit) the estimate was within 10% + 2 px and 5 degrees on 24 of 24, and deconvolving with it gains
+2.6 dB where the shipped model alone gains +0.4; held out, +2.87 dB on straight streaks, but on hand shake
(curved paths) it loses 0.4-2 dB against the model alone. So it is opt-in: `auto`
for straight streaks, `LENGTH,ANGLE` to give the streak yourself. Hand-written (numpy FFTs) because the
runtime is torch-free and no kept library ships blind linear-motion estimation.

Images are (H, W, C) float32 in [0, 1] or full-range integers; angles in degrees, counter-clockwise
from the image's x axis (a streak from lower left to upper right is 45).
"""

from __future__ import annotations

import numpy as np

from gan_app.errors import UserError
from gan_app.runtime.images import to_unit

AUTO = "auto"
OFF = "off"
MIN_LENGTH, MAX_LENGTH = 2.0, 400.0
ESTIMATE_SIDE = 1024      # a straight blur is the same everywhere: its centre crop of at most this is read
STRENGTH = 1e-2           # regularisation s; best of 3e-3 / 1e-2 / 3e-2 on the calibration streaks


def parse_motion(text: str | None) -> str | tuple[float, float] | None:
    """`--motion` / `motion=`: None or "off" -> None; "auto"; "LENGTH,ANGLE" (px, degrees) -> (length, angle)."""
    if isinstance(text, tuple):
        text = ",".join(map(str, text))
    if text is None or str(text).strip().lower() == OFF:
        return None
    if str(text).strip().lower() == AUTO:
        return AUTO
    parts = str(text).split(",")
    try:
        length, angle = (float(p) for p in parts)
    except ValueError:
        raise UserError(f"--motion must be off, auto or LENGTH,ANGLE (pixels, degrees; e.g. 30,45), got {text!r}") from None
    if not MIN_LENGTH <= length <= MAX_LENGTH or not np.isfinite(angle):
        raise UserError(f"--motion length must be {MIN_LENGTH:g}-{MAX_LENGTH:g} px and the angle a number, got {text!r}")
    return length, angle % 180.0


def estimate_motion(luma: np.ndarray) -> tuple[float, float]:
    """(length px, angle deg) of a straight motion blur in `luma` (H, W): the cepstrum's deepest minimum
    outside its centre, on the photo's centre crop of at most ESTIMATE_SIDE (Hann-windowed)."""
    h, w = luma.shape
    ch, cw = min(h, ESTIMATE_SIDE), min(w, ESTIMATE_SIDE)
    crop = luma[(h - ch) // 2:(h - ch) // 2 + ch, (w - cw) // 2:(w - cw) // 2 + cw].astype(np.float64)
    window = np.outer(np.hanning(ch), np.hanning(cw))
    spectrum = np.abs(np.fft.fft2((crop - crop.mean()) * window))
    cepstrum = np.fft.fftshift(np.real(np.fft.ifft2(np.log(spectrum + 1e-3))))
    yy, xx = np.mgrid[:ch, :cw]
    dy, dx = yy - ch // 2, xx - cw // 2
    radius = np.hypot(dy, dx)
    searched = (radius > 3) & (radius < min(0.45 * min(ch, cw), MAX_LENGTH))
    index = np.argmin(np.where(searched, cepstrum, np.inf))
    length = float(radius.flat[index])
    angle = float(np.degrees(np.arctan2(-dy.flat[index], dx.flat[index])) % 180.0)   # image y points down
    return max(length, MIN_LENGTH), angle


def line_psf(length: float, angle: float) -> np.ndarray:
    """(k, k) float64 PSF of a straight blur: a segment of `length` px at `angle`, drawn with bilinear
    weights (sub-pixel lengths and angles count), summing to 1; k odd."""
    size = int(2 * np.ceil(length / 2) + 5) | 1
    centre = size // 2
    steps = np.linspace(-length / 2, length / 2, int(np.ceil(length * 4)) + 1)
    x = centre + steps * np.cos(np.radians(angle))
    y = centre - steps * np.sin(np.radians(angle))
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    psf = np.zeros((size, size))
    for oy, ox, weight in ((0, 0, (1 - fx) * (1 - fy)), (0, 1, fx * (1 - fy)), (1, 0, (1 - fx) * fy), (1, 1, fx * fy)):
        np.add.at(psf, (y0 + oy, x0 + ox), weight)
    return psf / psf.sum()


def _transfer(psf: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The PSF's optical transfer function on an rfft2 grid of `shape`, centred at the origin."""
    padded = np.zeros(shape)
    k = psf.shape[0]
    padded[:k, :k] = psf
    return np.fft.rfft2(np.roll(padded, (-(k // 2), -(k // 2)), axis=(0, 1)))


def deconvolve(pixels: np.ndarray, psf: np.ndarray, strength: float = STRENGTH) -> np.ndarray:
    """`pixels` (H, W, C) in [0, 1] with the blur `psf` removed: (H, W, C) float32, clipped to [0, 1].
    Reflect-padded by twice the PSF so the FFT's wrap-around does not ring at the borders. Memory: about
    a dozen float32 copies of one padded channel (a 12 MP photo: ~0.8 GB peak, 6.5 s on 2 cores)."""
    pad = 2 * psf.shape[0]
    h, w = pixels.shape[:2]
    shape = (h + 2 * pad, w + 2 * pad)
    transfer = _transfer(psf, shape)
    gy, gx = np.zeros(shape), np.zeros(shape)
    gy[0, 0] = gx[0, 0] = 1.0
    gy[1, 0] = gx[0, 1] = -1.0
    roughness = np.abs(np.fft.rfft2(gy)) ** 2 + np.abs(np.fft.rfft2(gx)) ** 2
    inverse = (np.conj(transfer) / (np.abs(transfer) ** 2 + strength * roughness + strength)).astype(np.complex64)
    out = np.empty((h, w, pixels.shape[2]), np.float32)
    for c in range(pixels.shape[2]):      # float32 FFTs (numpy >= 2 keeps them single): half the memory of float64
        channel = np.pad(pixels[..., c].astype(np.float32), pad, mode="reflect")
        out[..., c] = np.fft.irfft2(np.fft.rfft2(channel) * inverse, s=shape)[pad:pad + h, pad:pad + w]
    return np.clip(out, 0.0, 1.0)


def resolve_motion(pixels: np.ndarray, motion: str | tuple[float, float] | None) -> tuple[float, float] | None:
    """The (length, angle) that `motion` asks for on `pixels` (H, W, C): estimated for "auto"."""
    motion = parse_motion(motion)
    if motion == AUTO:
        return estimate_motion(to_unit(np.asarray(pixels)).mean(axis=2))
    return motion


def remove_motion(pixels: np.ndarray, motion: str | tuple[float, float] | None) -> np.ndarray:
    """`pixels` (H, W, C), any dtype, with the straight motion blur `motion` removed (see `resolve_motion`):
    (H, W, C) float32 in [0, 1]; `pixels` unchanged (as given) when `motion` is None or "off"."""
    streak = resolve_motion(pixels, motion)
    if streak is None:
        return pixels
    return deconvolve(to_unit(np.asarray(pixels)), line_psf(*streak))
