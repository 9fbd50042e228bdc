"""Super-resolution benchmarks: quality on held-out photos, speed in ONNX Runtime.

    python benchmarks/superres.py quality [--scale 4] [--split bicubic|realworld] [--psnr-model X.onnx]
                                          [--gan-model Y.onnx] [--real-model Z.onnx] [--crops docs/superres_crops.png]
    python benchmarks/superres.py speed   [--scale 4] [--model X.onnx]

quality: PSNR/SSIM (RGB and Y, border crop = scale) and high-frequency energy ratio of
bicubic, Lanczos, the PSNR, GAN and real-world models (the shipped ones by default; a
missing one is left out), on `gan_app.apps.superres.data.evaluation_pairs` of the split
(`bicubic`: clean bicubic LR; `realworld`: blur, random downscaling filter, noise, JPEG).
speed: 320x180 -> 1280x720 at x4 (640x360 at --scale 2), ONNX Runtime, 2 threads, median of 5 runs, the fast
model vs SRGAN's SRResNet (16 blocks, 64 filters) exported in the same run.
Each prints a table and writes benchmarks/results/superres_<part>.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import ensemble_suffix, median_seconds, print_table, write_json  # noqa: E402

THREADS = 2
METRICS = ("psnr", "ssim", "psnr_y", "ssim_y", "hf_ratio")


def _shipped(model: str, scale: int) -> Path | None:
    from gan_app.apps.superres.command import shipped_name
    from gan_app.paths import shipped_model

    path = shipped_model("superres", shipped_name(model, scale))
    return path if path.is_file() else None


def _methods(scale: int, psnr_model: str | None, gan_model: str | None, real_model: str | None = None,
             ensemble: int = 1) -> dict:
    """name -> function (LR (h, w, 3) float) -> SR (h*s, w*s, 3) float in [0, 1]; `ensemble` > 1 adds, after each
    model, `<name>_ens<N>`: the same model self-ensembled over N flips/transposes (gan-app's `--ensemble`)."""
    from PIL import Image

    from gan_app.apps.superres.evaluate import upscale_pil
    from gan_app.runtime.ensemble import ensembled
    from gan_app.runtime.session import load_model
    from gan_app.runtime.tiling import infer_image

    methods = {"bicubic": lambda lr: upscale_pil(lr, scale, Image.Resampling.BICUBIC),
               "lanczos": lambda lr: upscale_pil(lr, scale, Image.Resampling.LANCZOS)}
    for name, given in (("psnr_model", psnr_model), ("gan_model", gan_model), ("real_model", real_model)):
        path = Path(given) if given else _shipped(name.removesuffix("_model"), scale)
        if path is not None:
            model = load_model(path, threads=THREADS)
            variants = {name: model} | ({name + ensemble_suffix(ensemble): ensembled(model, ensemble)} if ensemble > 1 else {})
            for key, m in variants.items():
                methods[key] = lambda lr, m=m: np.clip(infer_image(m, lr.transpose(2, 0, 1)).transpose(1, 2, 0), 0, 1)
    return methods


def quality(scale: int, psnr_model: str | None, gan_model: str | None, crops: str | None,
            split: str = "bicubic", real_model: str | None = None, ensemble: int = 1) -> dict:
    from gan_app.apps.superres.data import evaluation_pairs
    from gan_app.apps.superres.evaluate import PROTOCOL, score

    methods = _methods(scale, psnr_model, gan_model, real_model, ensemble)
    rows, outputs = [], []
    for name, lr, hr in evaluation_pairs(scale, split=split):
        row, outs = {"image": name}, {}
        for method, fn in methods.items():
            outs[method] = fn(lr)
            row.update({f"{method}_{k}": v for k, v in score(outs[method], hr, scale).items()})
        rows.append(row)
        outputs.append((name, lr, outs, hr))
    mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "image"}
    table = [{"method": m, **{k: mean[f"{m}_{k}"] for k in METRICS}} for m in methods]
    print_table(table, ["method", *METRICS])
    summary = {}
    if "psnr_model" in methods:
        summary["psnr_model_gain_db"] = mean["psnr_model_psnr"] - mean["bicubic_psnr"]
        summary["psnr_model_gain_y_db"] = mean["psnr_model_psnr_y"] - mean["bicubic_psnr_y"]
    if "real_model" in methods:
        summary["real_model_gain_db"] = mean["real_model_psnr"] - mean["bicubic_psnr"]
    for method in (m for m in methods if "_ens" in m):
        summary[f"{method}_gain_db"] = mean[f"{method}_psnr"] - mean["bicubic_psnr"]
    if "gan_model" in methods and "psnr_model" in methods:
        summary["gan_hf_closer_to_ground_truth"] = abs(mean["gan_model_hf_ratio"] - 1) < abs(mean["psnr_model_hf_ratio"] - 1)
    print(summary)
    if crops:
        crop_grid(outputs, scale, Path(crops))
    paths = {"psnr_model": psnr_model, "gan_model": gan_model, "real_model": real_model}
    result = {"protocol": PROTOCOL, "split": split, "scale": scale,
              "models": {m: str(_model_path(m, scale, paths[m])) for m in methods if m.endswith("_model")}, "ensemble": ensemble,
              "table": table, "rows": rows, **summary}
    write_json(f"superres_quality_x{scale}" + ("" if split == "bicubic" else f"_{split}")
               + ensemble_suffix(ensemble), result)
    return result


def _model_path(method: str, scale: int, given: str | None) -> Path | None:
    return Path(given) if given else _shipped(method.removesuffix("_model"), scale)


def crop_grid(outputs: list, scale: int, dest: Path, side: int = 96, count: int = 4) -> Path:
    """A PNG: one row per image (the crop with most ground-truth detail), columns LR (nearest) | methods | HR."""
    from PIL import Image, ImageDraw

    def tile(img: np.ndarray) -> Image.Image:
        return Image.fromarray(np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)).resize((side * 2, side * 2), Image.Resampling.NEAREST)

    rows = []
    for name, lr, outs, hr in outputs[:count]:
        y, x = _detailed_crop(hr, side, scale)
        lr_crop = lr[y // scale:(y + side) // scale, x // scale:(x + side) // scale]
        cells = [("LR", lr_crop)] + [(m, o[y:y + side, x:x + side]) for m, o in outs.items()] + [("HR", hr[y:y + side, x:x + side])]
        rows.append((name, cells))
    labels = [label for label, _ in rows[0][1]]
    cell, head = side * 2, 14
    canvas = Image.new("RGB", (cell * len(labels), head + cell * len(rows)), "white")
    draw = ImageDraw.Draw(canvas)
    for c, label in enumerate(labels):
        draw.text((c * cell + 4, 1), label, fill="black")
    for r, (_, cells) in enumerate(rows):
        for c, (_, img) in enumerate(cells):
            canvas.paste(tile(img), (c * cell, head + r * cell))
    dest.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(dest)
    print(f"wrote {dest}")
    return dest


def _detailed_crop(hr: np.ndarray, side: int, scale: int) -> tuple[int, int]:
    """Top-left (multiple of scale) of the `side` crop with the largest luma gradient energy."""
    grey = hr @ np.array([0.299, 0.587, 0.114])
    energy = np.abs(np.diff(grey, axis=0))[:, :-1] + np.abs(np.diff(grey, axis=1))[:-1]
    best, where = -1.0, (0, 0)
    for y in range(0, hr.shape[0] - side, side // 2):
        for x in range(0, hr.shape[1] - side, side // 2):
            e = float(energy[y:y + side, x:x + side].mean())
            if e > best:
                best, where = e, (y // scale * scale, x // scale * scale)
    return where


def speed(model_path: str | None, scale: int = 4) -> dict:
    """The fast model (shipped PSNR model of `scale` by default) vs a fresh SRResNet(16, 64) of that scale, the same
    input (1280x720 / scale), the same run."""
    from gan_app.apps.superres.head import HEAD
    from gan_app.apps.superres.model import SRModelConfig
    from gan_app.config import RunConfig
    from gan_app.export import export_generator
    from gan_app.runtime.session import load_model

    tmp = Path(tempfile.mkdtemp())
    fast_path = Path(model_path) if model_path else _shipped("psnr", scale)
    if fast_path is None:
        run = HEAD.recipe("pretrain")
        run.model.scale = scale
        fast_path = tmp / "fast.onnx"
        export_generator(HEAD, run, HEAD.build(run.model)[0].eval(), fast_path)
    pretrain = HEAD.recipe("pretrain")
    ref_run = RunConfig("superres", SRModelConfig(generator="srresnet", width=64, blocks=16, scale=scale), pretrain.data,
                        loss=pretrain.loss)
    export_generator(HEAD, ref_run, HEAD.build(ref_run.model)[0].eval(), tmp / "srresnet.onnx")
    x = {"image": np.random.default_rng(0).random((1, 3, 720 // scale, 1280 // scale), dtype=np.float32)}
    rows = []
    for name, path in (("fast", fast_path), ("srresnet_16x64", tmp / "srresnet.onnx")):
        model = load_model(path, threads=THREADS)
        out = model.run(x)
        if out.shape[2:] != (720, 1280):
            raise SystemExit(f"{path} is not an x{scale} model (it made {out.shape[3]}x{out.shape[2]}); pass --scale")
        seconds = median_seconds(lambda: model.run(x), repeats=5)
        rows.append({"model": name, "file": str(path), "output": "x".join(map(str, out.shape[2:][::-1])), "onnxruntime_s": seconds})
    ratio = rows[1]["onnxruntime_s"] / rows[0]["onnxruntime_s"]
    print_table(rows, ["model", "output", "onnxruntime_s"])
    print(f"fast: {rows[0]['onnxruntime_s']:.3f} s (bar 0.5 s), {ratio:.1f}x faster than SRResNet (bar 5.5x)")
    result = {"input": f"{1280 // scale}x{720 // scale} RGB -> 1280x720 (x{scale})", "threads": THREADS, "rows": rows, "speedup_vs_srresnet": ratio,
              "load_average_1min": os.getloadavg()[0], "cpu_count": os.cpu_count(),   # other jobs slow both models
              "meets_time_bar": rows[0]["onnxruntime_s"] <= 0.5, "meets_ratio_bar": ratio >= 5.5}
    write_json("superres_speed" if scale == 4 else f"superres_speed_x{scale}", result)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["quality", "speed"])
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--psnr-model", help="quality: a PSNR-trained .onnx (default: shipped)")
    parser.add_argument("--gan-model", help="quality: a GAN-trained .onnx (default: shipped, if any)")
    parser.add_argument("--split", default="bicubic", help="quality: bicubic (clean) or realworld (blur, noise, JPEG)")
    parser.add_argument("--real-model", help="quality: a real-world .onnx (default: shipped superres-x4-real, if any)")
    parser.add_argument("--crops", help="quality: also write the crop grid PNG here (e.g. docs/superres_crops.png)")
    parser.add_argument("--model", help="speed: the fast .onnx to time (default: shipped x4 PSNR model)")
    parser.add_argument("--ensemble", type=int, choices=[1, 2, 4, 8], default=1,
                        help="quality: also score each model self-ensembled over this many flips/transposes")
    args = parser.parse_args()
    if args.part == "quality":
        quality(args.scale, args.psnr_model, args.gan_model, args.crops, args.split, args.real_model, args.ensemble)
    else:
        speed(args.model, args.scale)


if __name__ == "__main__":
    main()
