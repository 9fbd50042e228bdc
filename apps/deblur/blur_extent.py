"""The blur-extent estimator behind `gan-app deblur --blur-scale auto`: data, network, training, export.

A deblurring model restores blur up to the extent it was trained on; `--blur-scale auto` has to
know how far a photo's blur reaches to pick the pyramid level (`gan_app.runtime.blur_extent`).
Hand-made estimates failed on realistic shake with noise and JPEG (docs/benchmarks.md, session 8:
self-consistency across levels; autocorrelation of directional derivatives, off by 2-50x), so the
extent is *learned*: a small strided CNN regresses log(RMS radius of the PSF + 0.5) from one
128 x 128 RGB crop, trained on the deblur head's own blur synthesis (camera.py's realistic camera,
blur.py's sRGB shake, and sharp crops) over a wider range of lengths than any deblur model
trains on (paths 1-100 px), so that "too long for the model" is measurable.

The label is the PSF's RMS radius (sqrt of its mass-weighted second moment about its centroid) rather
than the path length: a curled path and a straight one of equal length look different, the PSF's spread
is what the image shows. A straight path of length L has RMS radius L / sqrt(12).

    python -m gan_app.apps.deblur.blur_extent --out weights/deblur/blur-extent.estimator.onnx
"""

from __future__ import annotations

import argparse
import json
import math
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_app.data.photos import training_photos
from gan_app.data.ranges import to_unit_tensor

from .blur import ShakeParams, random_shake_psf
from .camera import CameraParams, jpeg, realistic_shot
from .data import degrade, DeblurDataConfig

CROP = 128                   # the estimator's input crop, px
OFFSET = 0.5                 # the network regresses log(radius + OFFSET): finite for sharp crops
LUMA = (0.299, 0.587, 0.114)  # Rec. 601 weights; the graph converts RGB itself, so callers feed plain RGB
TRAIN_SEED, VALIDATION_SEED = 11, 20_261_203
CAMERA = CameraParams(min_length=1.0, max_length=100.0, jpeg_quality=(70, 95), grid=2)   # 2x2 PSFs: a 128 px crop varies little
SHAKE_MAX = 60.0             # the sRGB shake branch draws its longest path log-uniform in [2, SHAKE_MAX] px


def psf_radius(psf: np.ndarray) -> float:
    """RMS radius (px) of a (K, K) PSF about its centroid: sqrt(sum w |p - mean|^2) / sqrt(sum w)."""
    w = np.asarray(psf, dtype=np.float64)
    ys, xs = np.indices(w.shape)
    mass = w.sum()
    cy, cx = (w * ys).sum() / mass, (w * xs).sum() / mass
    return float(math.sqrt((w * ((ys - cy) ** 2 + (xs - cx) ** 2)).sum() / mass))


def sample(photos: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, float]:
    """One training example: a (3, CROP, CROP) uint8 crop of a degraded photo and its blur's RMS radius (px).

    60% camera.py's realistic shot (paths 1-100 px; the label is the mean radius of its grid's PSFs),
    30% one sRGB shake PSF with Gaussian noise and JPEG (the uniform pipeline), 10% sharp (radius 0) with
    noise and JPEG, so that noise and blocking alone are not read as blur.
    """
    kind = rng.uniform()
    shake_max = math.exp(rng.uniform(math.log(2.0), math.log(SHAKE_MAX)))
    kernel = int(CAMERA.max_length) + 15 | 1 if kind < 0.6 else int(shake_max) + 3 | 1
    margin = kernel // 2 + 2
    photo = photos[int(rng.integers(len(photos)))]
    h, w = photo.shape[:2]
    side = CROP + 2 * margin
    y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    window = to_unit_tensor(np.ascontiguousarray(photo[y:y + side, x:x + side]))
    if kind < 0.6:
        blurred, _, psfs = realistic_shot(window, y, x, (h, w), CAMERA, rng)
        radius = float(np.mean([psf_radius(p) for p in psfs.numpy()]))
    elif kind < 0.9:
        psf = random_shake_psf(rng, ShakeParams(kernel, shake_max))
        blurred = degrade(window, psf, DeblurDataConfig(noise=0.02, jpeg_prob=0.5), rng)
        radius = psf_radius(psf)
    else:
        noisy = window + torch.from_numpy(rng.normal(0, rng.uniform(0, 0.02), window.shape).astype(np.float32))
        blurred = jpeg(noisy.clamp(0, 1), (60, 95), rng) if rng.uniform() < 0.5 else noisy.clamp(0, 1)
        radius = 0.0
    crop = blurred[:, margin:margin + CROP, margin:margin + CROP]
    return (crop.numpy() * 255 + 0.5).astype(np.uint8), radius


def estimator_photos() -> list[np.ndarray]:
    """The training photos (wallpapers included) large enough for a crop plus the longest blur's margin."""
    return [p for p in training_photos(wallpapers=True) if min(p.shape[:2]) >= 300]


def make_set(count: int, seed: int, photos: list[np.ndarray] | None = None, log=None) -> tuple[np.ndarray, np.ndarray]:
    """`count` examples from `seed`'s stream: (N, 3, CROP, CROP) uint8 crops and (N,) float32 radii."""
    photos = photos if photos is not None else estimator_photos()
    rng = np.random.default_rng(seed)
    crops = np.empty((count, 3, CROP, CROP), np.uint8)
    radii = np.empty(count, np.float32)
    for i in range(count):
        crops[i], radii[i] = sample(photos, rng)
        if log and (i + 1) % 1000 == 0:
            log(f"synthesised {i + 1}/{count}")
    return crops, radii


class BlurExtentNet(nn.Module):
    """(N, 3, H, W) RGB in [0, 1], H, W >= 64 -> (N,) log(RMS blur radius in px + OFFSET).

    Luma, then each crop normalised by its own mean and contrast (blur extent does not depend on
    either), six stride-2 3x3 conv stages (receptive field 130 px, the longest blur it is trained on),
    global average pooling and a linear read-out. ~50 k parameters; a millisecond per crop on a CPU.
    """

    def __init__(self, width: int = 16):
        super().__init__()
        chans = [1, width // 2, width, width, 2 * width, 2 * width, 3 * width, 3 * width]
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip(chans[:-1], chans[1:])):
            layers += [nn.Conv2d(cin, cout, 3, stride=1 if i == 0 else 2, padding=1), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(chans[-1], 1)
        self.register_buffer("luma", torch.tensor(LUMA).view(1, 3, 1, 1))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        luma = (rgb * self.luma).sum(1, keepdim=True)                              # (N, 1, H, W)
        mean = luma.mean(dim=(2, 3), keepdim=True)
        std = luma.std(dim=(2, 3), keepdim=True)
        x = (luma - mean) / (std + 0.02)
        return self.head(self.features(x).mean(dim=(2, 3)))[:, 0]


def _augment(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random flips and quarter turns of a (N, 3, H, W) batch: the extent is invariant to both."""
    if torch.rand(1, generator=gen) < 0.5:
        batch = batch.flip(3)
    return torch.rot90(batch, int(torch.randint(0, 4, (1,), generator=gen)), dims=(2, 3))


def train(crops: np.ndarray, radii: np.ndarray, steps: int, batch: int = 32, lr: float = 2e-3,
          seed: int = 0, log=print) -> BlurExtentNet:
    """Adam + cosine decay, L1 on log(radius + OFFSET): the level choice needs factors, not pixels."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = BlurExtentNet()
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    targets = torch.log(torch.from_numpy(radii) + OFFSET)
    images = torch.from_numpy(crops)
    for step in range(1, steps + 1):
        idx = torch.randint(0, len(images), (batch,), generator=gen)
        x = _augment(images[idx].float() / 255, gen)
        loss = (net(x) - targets[idx]).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if step % 200 == 0 or step == steps:
            log(f"step {step}/{steps}  L1(log radius) {loss.item():.3f}", flush=True)
    return net.eval()


@torch.no_grad()
def predict(net: BlurExtentNet, crops: np.ndarray) -> np.ndarray:
    """(N, 3, H, W) uint8 crops -> (N,) estimated RMS radii, px."""
    out = torch.cat([net(torch.from_numpy(c).float() / 255) for c in np.array_split(crops, max(1, len(crops) // 256))])
    return (out.exp() - OFFSET).clamp(min=0).numpy()


def validation_report(net: BlurExtentNet, crops: np.ndarray, radii: np.ndarray) -> dict:
    """Median |log error| and the share within a factor of 1.5, overall and per radius band."""
    est = predict(net, crops)
    err = np.abs(np.log(est + OFFSET) - np.log(radii + OFFSET))
    bands = {"sharp (<1 px)": radii < 1, "1-4 px": (radii >= 1) & (radii < 4), "4-12 px": (radii >= 4) & (radii < 12),
             "12-30 px": radii >= 12}
    report = {"count": int(len(radii)), "median_abs_log_error": float(np.median(err)),
              "within_1.5x": float(np.mean(err < math.log(1.5)))}
    report["bands"] = {name: {"count": int(m.sum()), "median_abs_log_error": float(np.median(err[m])) if m.any() else None,
                              "within_1.5x": float(np.mean(err[m] < math.log(1.5))) if m.any() else None}
                       for name, m in bands.items()}
    return report


def export(net: BlurExtentNet, out: Path, card: dict) -> None:
    """The network as ONNX (input `image` (N, 3, H, W) RGB [0, 1], output `log_radius` (N,)), and its card beside it.

    The graph's metadata names what it is (`gan_app_kind` = blur_extent) and the offset of its output, so
    `gan_app.runtime.blur_extent` reads radii without importing torch; both files are written atomically."""
    import onnx

    from gan_app.runtime.files import atomic_output

    out = Path(out)
    with atomic_output(out) as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # the TorchScript exporter, as core/export.py
        torch.onnx.export(net, (torch.rand(2, 3, CROP, CROP),), str(tmp), input_names=["image"],
                          output_names=["log_radius"], dynamic_axes={"image": {0: "N", 2: "H", 3: "W"}, "log_radius": {0: "N"}},
                          opset_version=17, do_constant_folding=True, dynamo=False)
        proto = onnx.load(str(tmp))
        for key, value in {"gan_app_kind": "blur_extent", "offset": str(OFFSET), "crop": str(CROP)}.items():
            proto.metadata_props.add(key=key, value=value)
        onnx.checker.check_model(proto)
        onnx.save(proto, str(tmp))
    with atomic_output(out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="ONNX file to write (its card goes beside it)")
    parser.add_argument("--samples", type=int, default=12_000, help="training crops to synthesise")
    parser.add_argument("--validation", type=int, default=1_500, help="validation crops (their own seed)")
    parser.add_argument("--steps", type=int, default=3_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", type=Path, help="keep the synthesised crops in this .npz and reuse them if present")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.time()
    if args.cache and args.cache.is_file():
        with np.load(args.cache, allow_pickle=False) as cached:
            crops, radii, val_crops, val_radii = (cached[k] for k in ("crops", "radii", "val_crops", "val_radii"))
    else:
        photos = estimator_photos()
        crops, radii = make_set(args.samples, TRAIN_SEED, photos, log=lambda m: print(m, flush=True))
        val_crops, val_radii = make_set(args.validation, VALIDATION_SEED, photos)
        if args.cache:
            np.savez(args.cache, crops=crops, radii=radii, val_crops=val_crops, val_radii=val_radii)
    made = time.time()
    print(f"synthesised {len(radii)} + {len(val_radii)} crops in {made - start:.0f} s")
    net = train(crops, radii, args.steps)
    report = validation_report(net, val_crops, val_radii)
    print(json.dumps(report, indent=2))
    card = {"name": "blur-extent", "kind": "blur_extent", "used_by": "gan-app deblur --blur-scale auto",
            "input": "image (N, 3, H, W) RGB in [0, 1], crops of 128 px", "output": f"log(RMS PSF radius in px + {OFFSET})",
            "architecture": "luma, per-crop mean/contrast normalisation, 7 conv3x3 (6 stride 2), global average pool, linear",
            "parameters": int(sum(p.numel() for p in net.parameters())),
            "training": {"crops": int(len(radii)), "seed": TRAIN_SEED, "steps": args.steps, "batch": 32,
                         "loss": "L1 on log(radius + 0.5)", "optimizer": "Adam 2e-3, cosine to 0",
                         "data": "training photos + wallpaper photographs (gan_app.data.photos), 60% realistic camera "
                                 "(paths 1-100 px), 30% sRGB shake (paths up to 60 px), 10% sharp; noise and JPEG",
                         "synthesis_s": round(made - start), "train_s": round(time.time() - made),
                         "hardware": f"CPU, {args.threads} threads"},
            "validation": report,
            "reproduce": "python -m gan_app.apps.deblur.blur_extent --out weights/deblur/blur-extent.estimator.onnx"}
    export(net, args.out, card)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
