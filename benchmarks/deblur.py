"""Deblur benchmarks: speed (fast vs resnet9, ONNX Runtime, 1280x720, 2 threads), quality, memory, data pipeline.

    python benchmarks/deblur.py speed   [--checkpoint CKPT] [--against OLD.onnx]
    python benchmarks/deblur.py quality [--model deblur.onnx|auto] [--split uniform|realistic|realistic_long|linear ...] [--photos calibration]
    python benchmarks/deblur.py memory  [--model deblur.onnx]
    python benchmarks/deblur.py data
    python benchmarks/deblur.py real    [--model auto|deblur.onnx] [--against OLD.onnx] [--out docs/deblur_real.png]
    python benchmarks/deblur.py reach   [--model deblur.onnx]   # choose its blur_reach_px for --blur-scale auto
    python benchmarks/deblur.py sharp   [--model deblur.onnx] [--against OLD.onnx]   # does it leave sharp photos alone?
    python benchmarks/deblur.py route   # calibrate --model auto's JPEG-grid threshold on the calibration pairs

Each prints a table and writes benchmarks/results/deblur_<part>.json.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import ensemble_suffix, median_seconds, print_table, write_json  # noqa: E402

THREADS = 2


def _photo(h: int, w: int) -> np.ndarray:
    """A real photo resized to (h, w, 3) float32 in [0, 1] (astronaut from scikit-image)."""
    import skimage.data
    from PIL import Image
    return np.asarray(Image.fromarray(skimage.data.astronaut()).resize((w, h), Image.BICUBIC), np.float32) / 255.0


def speed(checkpoint: str | None, against: str | None) -> dict:
    """Generators exported through gan_app.export, timed in one run on the same input.

    Rows: the fast model, the same architecture with pixel-shuffle upsampling (random weights:
    what the transposed-conv upsampling buys), resnet9, and optionally `against`, an exported
    deblur .onnx such as a previous release.
    """
    import dataclasses

    import torch

    from gan_app.apps.deblur.head import HEAD
    from gan_app.checkpoint import load_generator
    from gan_app.export import export_generator
    from gan_app.runtime.session import load_model

    torch.set_num_threads(THREADS)
    x = _photo(720, 1280).transpose(2, 0, 1)[None]                     # (1, 3, 720, 1280)
    if checkpoint:
        _, fast_run, fast = load_generator(Path(checkpoint))
    else:
        fast_run = HEAD.recipe("default")
        fast = HEAD.build(fast_run.model)[0].eval()
    candidates = [("fast", fast_run, fast)]
    if fast_run.model.upsample != "shuffle":
        shuffle_run = dataclasses.replace(fast_run, model=dataclasses.replace(fast_run.model, upsample="shuffle"))
        candidates.append(("fast, pixel-shuffle upsampling", shuffle_run, HEAD.build(shuffle_run.model)[0].eval()))
    paper = HEAD.recipe("paper")
    candidates.append(("resnet9", paper, HEAD.build(paper.model)[0].eval()))
    rows, tmp = [], Path(tempfile.mkdtemp())
    for i, (name, run, gen) in enumerate(candidates):
        export_generator(HEAD, run, gen, tmp / f"{i}.onnx")
        model = load_model(tmp / f"{i}.onnx", threads=THREADS)
        row = {"model": name, "params_M": sum(p.numel() for p in gen.parameters()) / 1e6,
               "onnxruntime_s": median_seconds(lambda: model.run({"image": x}), repeats=3 if name == "resnet9" else 5)}
        if name == "fast":
            xt = torch.from_numpy(x)
            with torch.no_grad():
                row["torch_eager_s"] = median_seconds(lambda: gen(xt), repeats=3)
        rows.append(row)
    if against:
        model = load_model(against, threads=THREADS)
        rows.append({"model": f"against: {Path(against).name}",
                     "onnxruntime_s": median_seconds(lambda: model.run({"image": x}), repeats=5)})
    by_name = {r["model"]: r for r in rows}
    fast_s = by_name["fast"]["onnxruntime_s"]
    ratio = by_name["resnet9"]["onnxruntime_s"] / fast_s
    print_table(rows, ["model", "params_M", "onnxruntime_s", "torch_eager_s"])
    print(f"fast is {ratio:.1f}x faster than resnet9 (ONNX Runtime, {THREADS} threads, 1280x720); "
          f"ORT vs torch eager for fast: {by_name['fast']['torch_eager_s'] / fast_s:.2f}x")
    for r in rows[1:]:
        if r["model"] != "resnet9":
            print(f"fast takes {fast_s / r['onnxruntime_s']:.2f}x the time of {r['model']}")
    result = {"input": "1280x720 RGB", "threads": THREADS, "rows": rows, "speedup_vs_resnet9": ratio}
    write_json("deblur_speed", result)
    return result


def data() -> dict:
    """Time of one synthetic training pair and of its blur: FFT product (ours) vs direct 31x31 convolution (kornia)."""
    import kornia
    import torch

    from gan_app.apps.deblur.blur import blur
    from gan_app.apps.deblur.data import DeblurDataConfig, SyntheticBlurDataset
    from gan_app.data.photos import training_photos

    torch.set_num_threads(1)   # as in a data-loader worker
    cfg = DeblurDataConfig(crop=96)
    dataset = SyntheticBlurDataset(training_photos(), cfg)
    image = torch.rand(1, 3, cfg.crop + cfg.kernel_size - 1, cfg.crop + cfg.kernel_size - 1)   # a crop with its margin
    psf = torch.rand(cfg.kernel_size, cfg.kernel_size)
    psf /= psf.sum()
    direct = lambda: kornia.filters.filter2d(image, torch.flip(psf, dims=(-2, -1))[None], border_type="reflect")  # noqa: E731
    rows = [{"step": "blur, FFT (ours)", "ms": median_seconds(lambda: blur(image, psf), repeats=50) * 1e3},
            {"step": "blur, direct (kornia filter2d)", "ms": median_seconds(direct, repeats=50) * 1e3},
            {"step": "one synthetic pair (crop 96)", "ms": median_seconds(lambda: dataset[0], repeats=50) * 1e3}]
    print_table(rows, ["step", "ms"])
    print(f"FFT blur is {rows[1]['ms'] / rows[0]['ms']:.1f}x faster; max difference "
          f"{float((blur(image, psf) - direct()).abs().max()):.1e}")
    result = {"threads": 1, "kernel": cfg.kernel_size, "rows": rows}
    write_json("deblur_data", result)
    return result


UNSHARP_GRID = [(radius, amount) for radius in (1.0, 2.0, 3.0, 5.0) for amount in (0.5, 1.0, 1.5, 2.0)]


def _unsharp(blurred: np.ndarray, radius: float, amount: float) -> np.ndarray:
    from skimage.filters import unsharp_mask
    return np.clip(unsharp_mask(blurred, radius=radius, amount=amount, channel_axis=2), 0, 1)


def _richardson_lucy(blurred: np.ndarray) -> np.ndarray:
    """Blind baseline: 10 Richardson-Lucy iterations with a guessed Gaussian PSF (sigma 2 px)."""
    from skimage.restoration import richardson_lucy

    yy, xx = np.mgrid[-7:8, -7:8]
    gauss = np.exp(-(yy ** 2 + xx ** 2) / (2 * 2.0 ** 2))
    gauss /= gauss.sum()
    return np.clip(np.stack([richardson_lucy(blurred[..., c], gauss, num_iter=10) for c in range(3)], axis=2), 0, 1)


def _best_unsharp(pairs: list) -> tuple[float, float]:
    """The unsharp-mask setting with the best mean PSNR on this split: the baseline at its best."""
    from gan_app.metrics.fidelity import psnr
    return max(UNSHARP_GRID, key=lambda ra: np.mean([psnr(_unsharp(b, *ra), s) for _, b, s in pairs]))


def quality_split(model_for, split: str, photos: str = "held_out") -> dict:
    """One split's per-image PSNR/SSIM: blurred, best unsharp mask, Richardson-Lucy, the model at
    pyramid levels 1 (full resolution, the default), 2 and 4 (`--blur-scale`), and at the level
    `--blur-scale auto` picks with the model's reach (its card's `blur_reach_px`), and with `--motion auto`
    (a straight streak estimated and deconvolved first, `gan_app.runtime.motion`). `model_for`: blurred
    image (H, W, 3) -> the ONNX runner for it (one model, or `--model auto`'s choice: column `model_name`)."""
    from gan_app.apps.deblur.data import DeblurDataConfig, evaluation_pairs
    from gan_app.metrics.fidelity import psnr, ssim
    from gan_app.paths import shipped_blur_estimator
    from gan_app.runtime.blur_extent import estimate_radius, level_for, model_reach
    from gan_app.runtime.motion import remove_motion
    from gan_app.runtime.pyramid import LEVELS, infer_at_level, parse_level

    auto = shipped_blur_estimator().is_file()
    if not auto:
        print("note: no blur-extent estimator shipped, so no --blur-scale auto column")
    pairs = evaluation_pairs(DeblurDataConfig(), split=split, photos=photos)
    radius, amount = _best_unsharp(pairs)
    rows = []
    for name, blurred, sharp in pairs:
        model = model_for(blurred)
        reach = model_reach(model)
        outs = {"blurred": blurred, "unsharp_mask": _unsharp(blurred, radius, amount),
                "richardson_lucy": _richardson_lucy(blurred)}
        for level in LEVELS:
            outs[f"model_level{level}"] = np.clip(infer_at_level(model, blurred.transpose(2, 0, 1), level), 0, 1
                                                  ).transpose(1, 2, 0)
        outs["motion_auto"] = np.clip(infer_at_level(model, remove_motion(blurred, "auto").transpose(2, 0, 1), 1), 0, 1
                                      ).transpose(1, 2, 0)
        row = {"image": name, "model_name": model.path.stem}
        if auto:
            row["estimated_radius"] = estimate_radius(blurred.transpose(2, 0, 1))
            row["auto_level"] = level_for(row["estimated_radius"], reach)
            outs["model_auto"] = outs[f"model_level{row['auto_level']}"]
        default = parse_level((model.card or {}).get("default_blur_scale", 1))   # what `gan-app deblur` runs
        outs["model_default"] = outs["model_auto" if default == "auto" and auto else f"model_level{1 if default == 'auto' else default}"]
        for method, img in outs.items():
            row[f"{method}_psnr"], row[f"{method}_ssim"] = psnr(img, sharp), ssim(img, sharp)
        rows.append(row)
    methods = (["blurred", "unsharp_mask", "richardson_lucy"] + [f"model_level{level}" for level in LEVELS]
               + ["model_auto"] * auto + ["model_default", "motion_auto"])
    mean = {f"{m}_{k}": float(np.mean([r[f"{m}_{k}"] for r in rows])) for m in methods for k in ("psnr", "ssim")}
    print(f"\n== split {split} (unsharp mask at its best setting here: radius {radius:g}, amount {amount:g}; "
          f"auto with each model's reach)")
    print_table(rows + [{"image": "MEAN", **mean}],
                ["image", "model_name"] + [f"{m}_psnr" for m in methods] + ["estimated_radius", "auto_level"] * auto
                + ["blurred_ssim", "model_level1_ssim"])
    gains = {"psnr_gain": mean["model_level1_psnr"] - mean["blurred_psnr"],
             "default_psnr_gain": mean["model_default_psnr"] - mean["blurred_psnr"],
             "ssim_gain": mean["model_level1_ssim"] - mean["blurred_ssim"],
             **{f"level{level}_psnr_gain": mean[f"model_level{level}_psnr"] - mean["blurred_psnr"] for level in LEVELS[1:]},
             **({"auto_psnr_gain": mean["model_auto_psnr"] - mean["blurred_psnr"]} if auto else {}),
             "motion_auto_psnr_gain": mean["motion_auto_psnr"] - mean["blurred_psnr"],
             "beats_best_classical_on_every_image": all(
                 r["model_level1_psnr"] > max(r["unsharp_mask_psnr"], r["richardson_lucy_psnr"]) for r in rows)}
    print({k: round(v, 3) if isinstance(v, float) else v for k, v in gains.items()})
    return {"unsharp_setting": {"radius": radius, "amount": amount}, "rows": rows, "mean": mean, **gains}


QUALITY_PROTOCOL = {
    "uniform": "held-out photos (gan_app.data.photos.HELD_OUT), centre crop <= 512, one camera-shake PSF per image "
               "(31 px canvas, path <= 20 px) from EVAL_KERNEL_SEED, sRGB, Gaussian noise <= 0.01, no JPEG",
    "realistic": "same photos; camera.py pipeline: linear light, highlights boosted x(1..5) with p=0.5, translation "
                 "path 10-45 px + roll <= 1 deg about the photo centre (3x3 PSF grid), shot+read noise, sRGB, JPEG q90",
    "realistic_long": "the realistic split's cameras with paths twice as long (20-90 px)",
    "linear": "same photos; one smooth straight streak per image (anti-aliased line, 5-61 px, any angle), sRGB, "
              "Gaussian noise <= 0.01, no JPEG",
}
REACH_SPLITS = ("uniform", "realistic", "realistic_long")   # the blur `--blur-scale auto` is calibrated for


def quality(model_path: str | None, splits: list[str], photos: str = "held_out", ensemble: int = 1) -> dict:
    """PSNR/SSIM on held-out photos x held-out cameras, per split; RGB, [0, 1], full image.

    `photos="calibration"`: training photos with their own camera stream instead, for choosing between
    proxy runs without spending the held-out benchmark (its figures are not quality claims).
    `ensemble` > 1: every model column is the self-ensemble over that many flips/transposes (`--ensemble`).
    `model_path` None or "auto" (the default): per image the model `gan-app deblur --model auto` picks
    (`gan_app.api.RoutedImageModel`), its column `model_default` at that model's default `--blur-scale`."""
    from gan_app.api import routed
    from gan_app.runtime.ensemble import ensembled
    from gan_app.runtime.session import load_model

    default = model_path in (None, "auto")   # what `gan-app deblur` and `gan_app.load("deblur")` run
    router = routed("deblur", threads=THREADS, ensemble=ensemble) if default else None
    if router is not None:
        model_for, described = (lambda blurred: router.pick(blurred).runner), f"auto: {router!r}"
    else:                                     # a given model, or the head's default alone when nothing routes
        model = ensembled(load_model("deblur" if default else model_path, threads=THREADS), ensemble)
        model_for, described = (lambda blurred: model), str(model.path)
    result = {"model": described, "ensemble": ensemble, "photos": photos,
              "protocol": {s: QUALITY_PROTOCOL[s] for s in splits},
              "splits": {split: quality_split(model_for, split, photos) for split in splits}}
    name = "deblur_quality" if model_path is None else f"deblur_quality_{Path(model_path).stem}"
    name += ensemble_suffix(ensemble)
    write_json(name if photos == "held_out" else f"{name}_calibration", result)
    return result


REACH_CANDIDATES = (2, 3, 4, 5, 6, 8, 10, 12, 16)


def reach(model_path: str | None) -> dict:
    """Choose a model's `blur_reach_px` on the calibration pairs (training photos, their own cameras), all three
    splits pooled: the candidate whose auto levels give the best mean PSNR. Never the held-out benchmark."""
    from gan_app.apps.deblur.data import DeblurDataConfig, evaluation_pairs
    from gan_app.metrics.fidelity import psnr
    from gan_app.runtime.blur_extent import estimate_radius, level_for
    from gan_app.runtime.pyramid import LEVELS, infer_at_level
    from gan_app.runtime.session import load_model

    model = load_model(model_path or "deblur", threads=THREADS)
    images = []                                     # (split, radius estimate, {level: PSNR})
    for split in REACH_SPLITS:
        for name, blurred, sharp in evaluation_pairs(DeblurDataConfig(), split=split, photos="calibration"):
            chw = blurred.transpose(2, 0, 1)
            scores = {level: psnr(np.clip(infer_at_level(model, chw, level), 0, 1).transpose(1, 2, 0), sharp)
                      for level in LEVELS}
            images.append((split, estimate_radius(chw), scores))
    rows = []
    for candidate in REACH_CANDIDATES:
        row = {"reach_px": candidate}
        for split in REACH_SPLITS:
            chosen = [s[level_for(r, candidate)] - s[1] for sp, r, s in images if sp == split]
            row[f"{split}_auto_minus_level1"] = float(np.mean(chosen))
        row["pooled_auto_psnr"] = float(np.mean([s[level_for(r, candidate)] for _, r, s in images]))
        rows.append(row)
    best = max(rows, key=lambda r: r["pooled_auto_psnr"])
    print(f"\n== reach for {model.path.name} on the calibration pairs (auto minus level 1, dB)")
    print_table(rows, list(rows[0]))
    print(f"best reach: {best['reach_px']} px")
    result = {"model": str(model.path), "best_reach_px": best["reach_px"], "rows": rows,
              "radius_estimates": [{"split": sp, "radius": r, **{f"level{k}_psnr": v for k, v in s.items()}}
                                   for sp, r, s in images]}
    write_json(f"deblur_reach_{model.path.stem}", result)
    return result


def route() -> dict:
    """Calibrate `--model auto`'s JPEG-grid threshold (`gan_app.runtime.compression.JPEG_GRID`) on the calibration
    pairs only (training photos, their own cameras): grid scores of the lossless uniform pairs and of the JPEG-q90
    realistic pairs, and how many uniform pairs re-encoded at q90/93/95/97 score above the threshold."""
    import io

    from PIL import Image

    from gan_app.apps.deblur.data import DeblurDataConfig, evaluation_pairs
    from gan_app.runtime.compression import JPEG_GRID, jpeg_grid_strength

    def reencoded(image: np.ndarray, quality: int) -> np.ndarray:
        buffer = io.BytesIO()
        Image.fromarray((np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)).save(buffer, format="JPEG", quality=quality)
        return np.asarray(Image.open(buffer))

    lossless = [b for _, b, _ in evaluation_pairs(DeblurDataConfig(), split="uniform", photos="calibration")]
    camera = [b for _, b, _ in evaluation_pairs(DeblurDataConfig(), split="realistic", photos="calibration")]
    rows = [{"inputs": "uniform (lossless)", "scores": [jpeg_grid_strength(b) for b in lossless]},
            {"inputs": "realistic (JPEG q90)", "scores": [jpeg_grid_strength(b) for b in camera]}]
    rows += [{"inputs": f"uniform re-encoded q{q}", "scores": [jpeg_grid_strength(reencoded(b, q)) for b in lossless]}
             for q in (90, 93, 95, 97)]
    for row in rows:
        row.update(min=min(row["scores"]), max=max(row["scores"]),
                   above_threshold=f"{sum(x > JPEG_GRID for x in row['scores'])}/{len(row['scores'])}")
    print_table(rows, ["inputs", "min", "max", "above_threshold"])
    midpoint = (rows[0]["max"] + rows[1]["min"]) / 2
    print(f"threshold in use {JPEG_GRID}; midpoint of these calibration pairs {midpoint:.3f}")
    result = {"threshold": JPEG_GRID, "midpoint": midpoint, "rows": rows}
    write_json("deblur_route", result)
    return result


REAL_BLUR = [("clock_motion", "apps/deblur/assets/clock_motion.png"),
             ("licenseplate_motion", "/usr/share/doc/opencv-doc/examples/data/licenseplate_motion.jpg"),
             ("text_motion", "/usr/share/doc/opencv-doc/examples/data/text_motion.jpg")]


def real(model_path: str | None, against: str | None, out: str, ensemble: int = 1) -> dict:
    """Real motion-blurred photos (no ground truth) side by side: input | `against` | the model (default: what
    `gan-app deblur` runs, `--model auto`) at `--blur-scale` 1 and 2 | the same with `--motion auto` (a straight
    streak estimated and deconvolved first), self-ensembled over `ensemble` flips/transposes when > 1.

    Writes a PNG for the README (each photo scaled to 200 px high, labelled) and, per photo,
    the mean absolute change and the gradient energy ratio output/input (how much sharper), the blur
    radius `--blur-scale auto` estimates with the level it would pick, and the streak `--motion auto` reads.
    """
    from PIL import Image

    from gan_app.api import load_image
    from gan_app.paths import shipped_blur_estimator
    from gan_app.runtime.blur_extent import estimate_radius, level_for, model_reach
    from gan_app.runtime.motion import resolve_motion

    root = Path(__file__).resolve().parents[1]
    chosen = load_image("deblur" if model_path in (None, "auto") else model_path, threads=THREADS, ensemble=ensemble)
    others = [load_image(against, threads=THREADS)] if against else []
    rows, strips, estimates = [], [], []
    for name, rel in REAL_BLUR:
        path = Path(rel) if Path(rel).is_absolute() else root / rel
        if not path.is_file():
            print(f"skip {name}: {path} missing (apt-get install -y opencv-doc)")
            continue
        image = np.asarray(Image.open(path).convert("RGB"), np.float32) / 255.0        # (H, W, 3)
        model = chosen.for_clip(image)                 # --model auto's pick for this photo
        length, angle = resolve_motion(image, "auto")
        estimate = {"photo": name, "size": f"{image.shape[1]}x{image.shape[0]}", "model": model.path.stem,
                    "motion_length_px": length, "motion_angle_deg": angle}
        if shipped_blur_estimator().is_file():
            radius = estimate_radius(image.transpose(2, 0, 1))
            estimate.update(estimated_radius=radius, auto_level=level_for(radius, model_reach(model.onnx)))
        estimates.append(estimate)
        suffix = f", --ensemble {ensemble}" if ensemble > 1 else ""
        panels = [("input", image)] + [(other.path.stem, other(image)) for other in others]
        panels += [(f"{model.path.stem}{suffix}", model(image)),
                   (f"{model.path.stem}, --blur-scale 2{suffix}", model(image, blur_scale=2)),
                   (f"--motion auto ({length:.0f} px, {angle:.0f} deg){suffix}", model.with_motion("auto")(image))]
        grad = lambda x: float(np.abs(np.diff(x.mean(2), axis=1)).mean() + np.abs(np.diff(x.mean(2), axis=0)).mean())  # noqa: E731
        for tag, img in panels[1:]:
            rows.append({"photo": name, "output": tag, "mean_abs_change": float(np.abs(img - image).mean()),
                         "gradient_ratio": grad(img) / grad(image)})
        strips.append(_strip([(tag, np.clip(img, 0, 1).transpose(2, 0, 1)) for tag, img in panels]))
    print_table(rows, ["photo", "output", "mean_abs_change", "gradient_ratio"])
    print_table(estimates, list(estimates[0]))
    width = max(s.width for s in strips)
    sheet = Image.new("RGB", (width, sum(s.height for s in strips)), "white")
    y = 0
    for strip in strips:
        sheet.paste(strip, (0, y))
        y += strip.height
    sheet.save(out, optimize=True)
    print(f"wrote {out}")
    result = {"photos": [n for n, _ in REAL_BLUR], "rows": rows, "blur_estimates": estimates, "picture": out}
    write_json("deblur_real" + ensemble_suffix(ensemble), result)
    return result


def sharp(model_path: str | None, against: str | None, photos: str = "held_out", ensemble: int = 1) -> dict:
    """Sharp photos in, the same photos out? Users run deblur on pictures that are not blurred too.

    The quality protocol's centre crops, unblurred, as 8-bit PNG and as JPEG q90 (a phone's file). Per image and
    model: PSNR of the output against its input (higher: the photo was left alone) and the 0.1th percentile of
    output - input in 1/255 (how dark the worst patches were made: a model that mistakes bright objects for
    blurred highlights darkens them). `ensemble` > 1: the model (not `against`) self-ensembled, labelled `_ens<N>`.
    """
    from gan_app.apps.deblur.camera import jpeg
    from gan_app.apps.deblur.data import evaluation_crops
    from gan_app.metrics.fidelity import psnr
    from gan_app.runtime.ensemble import ensembled
    from gan_app.runtime.pyramid import infer_at_level
    from gan_app.runtime.session import load_model

    first = load_model(model_path or "deblur", threads=THREADS)
    models = [(first.path.stem + ensemble_suffix(ensemble), ensembled(first, ensemble))]
    if against:
        other = load_model(against, threads=THREADS)
        models.append((other.path.stem, other))
    rng = np.random.default_rng(0)                       # only JPEG's (unused) randomness: quality is fixed at 90
    rows = []
    for name, png, _, _, _ in evaluation_crops(photos=photos):          # (3, h, w), 8-bit values already
        for kind, chw in (("png", png.numpy()), ("jpeg90", jpeg(png, (90, 90), rng).numpy())):
            row, image = {"image": name, "input": kind}, chw.transpose(1, 2, 0)
            for label, model in models:
                out = np.clip(infer_at_level(model, chw, 1), 0, 1).transpose(1, 2, 0)
                row[f"{label}_psnr"] = psnr(out, image)
                row[f"{label}_darkest"] = float(np.percentile(out - image, 0.1) * 255)
            rows.append(row)
    columns = ["image", "input"] + [f"{label}_{k}" for label, _ in models for k in ("psnr", "darkest")]
    mean = {c: float(np.mean([r[c] for r in rows])) for c in columns[2:]}
    print(f"\n== sharp {photos} photos through the model (PSNR output vs input; darkest: 0.1th percentile of the change, /255)")
    print_table(rows + [{"image": "MEAN", "input": "", **mean}], columns)
    result = {"models": [str(m.path) for _, m in models], "ensemble": ensemble, "photos": photos, "rows": rows, "mean": mean}
    write_json(f"deblur_sharp_{models[0][0]}" + ("" if photos == "held_out" else "_calibration"), result)
    return result


def _strip(panels: list, height: int = 200):
    """A PIL image: (name, (3, H, W) [0, 1]) panels labelled and placed side by side at `height` px."""
    from PIL import Image, ImageDraw

    tiles = []
    for label, img in panels:
        pic = Image.fromarray((img.transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8))
        pic = pic.resize((round(pic.width * height / pic.height), height), Image.LANCZOS)
        ImageDraw.Draw(pic).rectangle((0, 0, 8 * len(label) + 8, 16), fill="white")
        ImageDraw.Draw(pic).text((4, 2), label, fill="black")
        tiles.append(pic)
    strip = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) - 1), height), "white")
    x = 0
    for t in tiles:
        strip.paste(t, (x, 0))
        x += t.width + 4
    return strip


def memory(model_path: str | None) -> dict:
    """Peak RSS of `gan-app deblur` on a 6000x4000 image (automatic tiling), in a fresh process."""
    from PIL import Image

    tmp = Path(tempfile.mkdtemp())
    big = tmp / "big.png"
    Image.fromarray((_photo(1000, 1500) * 255).astype(np.uint8)).resize((6000, 4000), Image.BILINEAR).save(big)
    cmd = [sys.executable, "-m", "gan_app.apps.cli", "deblur", str(big), "-o", str(tmp / "out.png"), "--threads", str(THREADS)]
    if model_path:
        cmd += ["--model", model_path]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run(cmd, check=True)
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2
    row = {"input": "6000x4000 RGB PNG", "peak_rss_gb": peak_gb, "limit_gb": 2.5, "ok": peak_gb <= 2.5}
    print_table([row], list(row))
    if before:
        print("note: an earlier child process ran; peak is the max over children")
    write_json("deblur_memory", row)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["speed", "quality", "memory", "data", "real", "reach", "sharp", "route"])
    parser.add_argument("--checkpoint", help="speed: time this trained fast checkpoint instead of a fresh one")
    parser.add_argument("--against", help="speed/real/sharp: also time/show/score this exported deblur .onnx (e.g. a previous release)")
    parser.add_argument("--out", default="docs/deblur_real.png", help="real: where the before|after picture goes")
    parser.add_argument("--model", help="quality/memory/reach/sharp: an exported deblur .onnx (default: shipped)")
    parser.add_argument("--split", action="append", choices=list(QUALITY_PROTOCOL),
                        help="quality: evaluate only this split (repeatable; default: all three)")
    parser.add_argument("--photos", choices=["held_out", "calibration"], default="held_out",
                        help="quality/sharp: held_out (the benchmark) or calibration (training photos, fresh cameras: "
                             "for choosing between proxy runs)")
    parser.add_argument("--ensemble", type=int, choices=[1, 2, 4, 8], default=1,
                        help="quality/real/sharp: self-ensemble the model over this many flips/transposes (gan-app's --ensemble)")
    args = parser.parse_args()
    splits = args.split or list(QUALITY_PROTOCOL)
    {"speed": lambda: speed(args.checkpoint, args.against), "quality": lambda: quality(args.model, splits, args.photos, args.ensemble),
     "memory": lambda: memory(args.model), "data": data, "real": lambda: real(args.model, args.against, args.out, args.ensemble),
     "reach": lambda: reach(args.model), "route": route, "sharp": lambda: sharp(args.model, args.against, args.photos, args.ensemble)}[args.part]()


if __name__ == "__main__":
    main()
