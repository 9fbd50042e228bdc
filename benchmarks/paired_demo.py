"""The paired-head demo: PSNR of an exported denoising/colorizing model on the held-out photos, and a picture.

    python benchmarks/paired_demo.py denoise-photos --task denoise --picture docs/paired_demo.png

Runs the exported ONNX model (a user model name or a file) through the runtime that
`gan-app run` uses, on the held-out offline photos (never trained on), degraded exactly as
`gan-app eval paired` does (same seed stream). Prints a table, writes
benchmarks/results/paired_demo.json and a before | after | target picture.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).parent))
from _common import print_table, write_json  # noqa: E402

from gan_app.apps.paired.data import held_out_pairs  # noqa: E402
from gan_app.metrics.fidelity import psnr, ssim  # noqa: E402
from gan_app.runtime.session import load_model  # noqa: E402
from gan_app.runtime.tiling import infer_image  # noqa: E402


def picture(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]], crop: int, path: Path) -> None:
    """One row per photo: input | model | target, centre crops of `crop` px, with a header."""
    header, gap = 18, 4
    canvas = Image.new("RGB", (3 * crop + 2 * gap, header + len(rows) * (crop + gap) - gap), "white")
    draw = ImageDraw.Draw(canvas)
    for col, label in enumerate(("input", "model", "target")):
        draw.text((col * (crop + gap) + 4, 3), label, fill="black")
    for r, images in enumerate(rows):
        for col, image in enumerate(images):
            h, w = image.shape[:2]
            y, x = (h - crop) // 2, (w - crop) // 2
            tile = np.round(np.clip(image[y:y + crop, x:x + crop], 0, 1) * 255).astype(np.uint8)
            canvas.paste(Image.fromarray(tile), (col * (crop + gap), header + r * (crop + gap)))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, optimize=True)
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="user model name (e.g. denoise-photos) or an .onnx file")
    parser.add_argument("--task", choices=("denoise", "colorize"), default="denoise")
    parser.add_argument("--noise", type=float, default=0.1, help="denoise: the sigma the model was trained for")
    parser.add_argument("--picture", type=Path, help="write the before | after | target picture here")
    parser.add_argument("--show", nargs="*", default=["coffee", "fruits.jpg", "butterfly.jpg"], help="photos in the picture")
    parser.add_argument("--crop", type=int, default=128)
    args = parser.parse_args()

    model = load_model(args.model, threads=1)
    rows, shown = [], []
    for name, a, b in held_out_pairs(args.task, args.noise):
        out = infer_image(model, a.transpose(2, 0, 1), tile=0).transpose(1, 2, 0)  # (H, W, 3), whole image
        out = np.clip(out, 0, 1)
        rows.append({"image": name, "psnr_input": psnr(a, b), "psnr_model": psnr(out, b),
                     "ssim_input": ssim(a, b), "ssim_model": ssim(out, b)})
        if name in args.show:
            shown.append((a, out, b))
    mean = {k: float(np.mean([r[k] for r in rows])) for k in ("psnr_input", "psnr_model", "ssim_input", "ssim_model")}
    print_table(rows + [{"image": "mean", **mean}], ["image", "psnr_input", "psnr_model", "ssim_input", "ssim_model"])
    write_json("paired_demo", {"model": str(model.path), "task": args.task, "noise": args.noise, "mean": mean,
                               "images": rows, "model_card_training": (model.card or {}).get("training"),
                               "protocol": "held-out offline photos, centre crop <= 512 px, ONNX Runtime CPU, RGB, [0,1]"})
    if args.picture:
        picture(shown, args.crop, args.picture)


if __name__ == "__main__":
    main()
