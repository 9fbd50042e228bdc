"""Text-to-image benchmark: faithfulness metrics, ONNX Runtime speed, and the captions -> images grid.

    python benchmarks/text2image.py --checkpoint CKPT [--model weights/text2image/text2image-v1.onnx] [--n 2000]

Evaluates the checkpoint's EMA generator with the head's protocol (per-attribute accuracy on seen
and held-out colour x shape pairs, R-precision, Fréchet distance; see apps/text2image/evaluate.py),
with the noise truncation `gan-app text2img` uses by default and untruncated,
times caption -> 8 images on ONNX Runtime (1 thread, text encoder + generator), writes
benchmarks/results/text2image.json and docs/text2image_grid.png (one row per caption; the last
rows are held-out combinations).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_seconds, print_table, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
GRID = ROOT / "docs" / "text2image_grid.png"
SEEN = ["a small red circle at the top left", "a large blue triangle at the center", "big green square, bottom right",
        "the cross is white and small, placed at the top", "there is a large circle in yellow at the left"]
HELDOUT = ["a large red triangle at the center", "a big green circle at the bottom left",
           "a small blue square at the right", "top right: a yellow cross, large"]


def draw_grid(model_path: Path, out: Path, per_row: int = 8, seed: int = 0) -> None:
    """Caption label + `per_row` samples per caption (same noise in every row), ONNX Runtime only."""
    from PIL import Image, ImageDraw

    from gan_app.apps.text2image.text_runtime import TextEncoderSession, text_graph_path
    from gan_app.apps.text2image.generate import TRUNCATION
    from gan_app.runtime.sampling import grid, normal_latents
    from gan_app.runtime.session import load_model

    onnx = load_model(model_path, threads=1)
    text = TextEncoderSession(text_graph_path(onnx.path), 1)
    z = normal_latents(np.random.default_rng(seed), (per_row, int(onnx.spec.extra["z_dim"])), TRUNCATION)
    rows = []
    for caption in SEEN + HELDOUT:
        e = np.repeat(text.encode([caption]), per_row, axis=0)
        rows.append(grid(onnx.run({"z": z, "embedding": e}), per_row, tuple(onnx.spec.value_range), zoom=2))
    label_w, row_h = 330, rows[0].shape[0]
    canvas = Image.new("RGB", (label_w + rows[0].shape[1], row_h * len(rows)), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for k, (caption, row) in enumerate(zip(SEEN + HELDOUT, rows)):
        canvas.paste(Image.fromarray(row), (label_w, k * row_h))
        tag = " (held-out pair)" if caption in HELDOUT else ""
        draw.text((6, k * row_h + row_h // 2 - 6), caption + tag, fill=(0, 0, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)
    print(f"wrote {out}")


def speed(model_path: Path) -> dict:
    from gan_app.apps.text2image.text_runtime import TextEncoderSession, text_graph_path
    from gan_app.runtime.session import load_model

    onnx = load_model(model_path, threads=1)
    text = TextEncoderSession(text_graph_path(onnx.path), 1)
    z = np.random.default_rng(0).standard_normal((8, int(onnx.spec.extra["z_dim"]))).astype(np.float32)
    run = lambda: onnx.run({"z": z, "embedding": np.repeat(text.encode([SEEN[0]]), 8, axis=0)})  # noqa: E731
    return {"caption_to_8_images_s": median_seconds(run, repeats=20), "threads": 1, "runtime": "onnxruntime CPU"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--model", type=Path, default=ROOT / "weights" / "text2image" / "text2image-v1.onnx")
    parser.add_argument("--n", type=int, default=2000, help="generated images per evaluation split")
    args = parser.parse_args()

    import torch

    from gan_app.apps.text2image.evaluate import evaluate_generator
    from gan_app.apps.text2image.generate import TRUNCATION
    from gan_app.checkpoint import load_generator, read_meta

    torch.set_num_threads(1)
    _, run, generator = load_generator(args.checkpoint)
    metrics = evaluate_generator(generator, run, n=args.n)  # as `gan-app text2img` samples: truncated
    untruncated = evaluate_generator(generator, run, n=args.n, truncation=0.0)
    log = args.checkpoint.parents[1] / "metrics.jsonl"
    lines = [json.loads(line) for line in log.read_text().splitlines()] if log.is_file() else []
    training = {"steps": read_meta(args.checkpoint)["step"], "recipe_steps": run.train.steps,
                "batch_size": run.train.batch_size, "cpu_threads": run.train.cpu_threads,
                "mean_it_s": round(float(np.mean([entry["it_s"] for entry in lines if "it_s" in entry])), 3) if lines else None}
    rows = [{"split": s, "truncation": m["truncation"],
             **{a: m[f"{s}_accuracy_{a}"] for a in ("shape", "colour", "size", "position", "all")},
             "r_precision": m[f"{s}_r_precision"], "frechet": m[f"{s}_frechet_distance"],
             "frechet_floor": m[f"{s}_frechet_floor_real_train"]} for m in (metrics, untruncated) for s in ("seen", "heldout")]
    print_table(rows, list(rows[0]))
    result = {"checkpoint": args.checkpoint.name, "training": training, "text2img_default_truncation": TRUNCATION,
              "metrics": metrics, "metrics_untruncated": untruncated,
              "targets": {"seen_per_attribute_accuracy": 0.90, "heldout_per_attribute_accuracy": 0.75}}
    if args.model.is_file():
        result["speed"] = speed(args.model)
        print(result["speed"])
        draw_grid(args.model, GRID)
    write_json("text2image", result)


if __name__ == "__main__":
    main()
