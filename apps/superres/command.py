"""`gan-app upscale`: super-resolution on ONNX Runtime (no torch), tiled for large images.

Models are picked by name (`psnr`: sharpest by the numbers, `gan`: more fine texture)
and scale from the shipped weights (`weights/superres/superres-x4-psnr.onnx`), or given
as a path. Output sizes are checked against `--max-pixels` from the file headers
before any work (gan_app.runtime.batch), so a huge upscale is refused up front.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from gan_app.apps.image_options import ENSEMBLE
from gan_app.apps.video_options import CODEC, CRF, DURATION, START, video_options
from gan_app.limits import DEFAULT_MAX_PIXELS

MODEL_NAMES = ("psnr", "gan", "real")
# `--model auto` (the default): lossy files (JPEG, WebP: compressed, usually camera or web photos) get
# the real-world model, lossless ones (PNG, TIFF, BMP; video frames count as lossy) the PSNR model; a
# shipped model that is missing falls back to psnr. Chosen by the rules in docs/benchmarks.md (session 9).
LOSSY_SUFFIXES = (".jpg", ".jpeg", ".webp")
AUTO = {"lossy": "real", "lossless": "psnr"}

EPILOG = """Examples:

  gan-app upscale photo.jpg                         # x4, writes photo_x4.jpg

  gan-app upscale shots/ --scale 2 -o big/ --compare

  gan-app upscale icon.png --model gan              # the GAN model: more texture, lower PSNR

  gan-app upscale scan.tif --tile 256 --max-pixels 200000000

  gan-app upscale clip.mp4 --scale 2 --crf 20        # video (pip install 'gan-app[video]'), audio kept
"""


def shipped_name(model: str, scale: int) -> str:
    """The shipped weights variant for a model name and scale, e.g. `x4-psnr`."""
    return f"x{scale}-{model}"


def resolve_model(model: str, scale: int | None, threads: int | None, ensemble: int | str = 1):
    """(ImageModel, scale): a shipped `psnr`/`gan` model at `scale` (default 4), or an .onnx path;
    `ensemble`: flips/transposes averaged (`ImageModel`)."""
    from gan_app.errors import UserError
    from gan_app.paths import shipped_model
    from gan_app.api import load_image, resolve

    if model in MODEL_NAMES:
        wanted = scale or 4
        path = shipped_model("superres", shipped_name(model, wanted))
        if not path.is_file():
            present = sorted(p.stem.removeprefix("superres-") for p in path.parent.glob("superres-x*.onnx")
                             if p.stem.count(".") == 0)
            raise UserError(f"no shipped x{wanted} {model} model (looked for {path.name}); shipped: "
                            f"{', '.join(present) or 'none'}; pass --scale/--model accordingly or --model FILE.onnx")
    else:
        path = Path(resolve(model, "superres"))   # a FILE.onnx or a model name (`gan-app models`), e.g. x2-psnr
    upscaler = load_image(path, threads=threads, head="superres", kind="super-resolution", ensemble=ensemble)
    if scale is not None and upscaler.scale != scale:
        raise UserError(f"{path.name} upscales x{upscaler.scale}, not x{scale}; pass --scale {upscaler.scale} or another model")
    return upscaler, upscaler.scale


def upscale_command(
    inputs: Optional[List[str]] = typer.Argument(None, help="Images, video clips, folders or globs."),
    scale: Optional[int] = typer.Option(None, "--scale", help="2 or 4 (default 4; a --model FILE brings its own)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output file (one input) or folder."),
    model: str = typer.Option("auto", "--model", help="auto (real for JPEG/WebP and video, psnr otherwise), psnr (faithful on clean images), real (cleans JPEG and noise), gan (more texture), a model name (`gan-app models`) or FILE.onnx."),
    tile: Optional[int] = typer.Option(None, "--tile", help="Tile size in input px for large images (0: never tile; default: automatic)."),
    max_pixels: int = typer.Option(DEFAULT_MAX_PIXELS, "--max-pixels", help="Largest output allowed, in pixels."),
    compare: bool = typer.Option(False, "--compare", help="Also write a side-by-side bicubic|model PNG."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for ONNX Runtime."),
    ensemble: str = ENSEMBLE,
    crf: int = CRF,
    codec: Optional[str] = CODEC,
    start: float = START,
    duration: Optional[float] = DURATION,
) -> None:
    """Upscale photos x2 or x4 with a super-resolution model (ONNX Runtime, no torch needed)."""
    from gan_app.errors import UserError
    from gan_app.runtime.batch import process_images
    from gan_app.runtime.ensemble import parse_ensemble

    from .head import HEAD

    if not inputs:
        raise UserError("no input given; pass image files, folders or globs")
    if scale is not None and scale not in (2, 4):
        raise UserError(f"--scale must be 2 or 4 (the shipped models), got {scale}; a --model FILE brings its own scale")
    transforms = parse_ensemble(ensemble)        # checked before auto's lazy loads
    if model == "auto":
        upscaler, factor = auto_models(scale, threads, transforms), scale or 4
    else:
        upscaler, factor = resolve_model(model, scale, threads, transforms)
    for path in process_images(upscaler, inputs, output, suffix=HEAD.output_suffix.format(scale=factor),
                               overwrite=overwrite, tile=tile, compare=compare, max_pixels=max_pixels,
                               video=video_options(crf, codec, start, duration)):
        typer.echo(str(path))


def auto_models(scale: int | None, threads: int | None, ensemble: int = 1):
    """`--model auto`: input file -> its ImageModel by the AUTO rule (lossy files and clips to the
    real-world model when it is shipped at that scale, else psnr), each loaded once, on first use."""
    from gan_app.paths import shipped_model
    from gan_app.runtime.video import VIDEO_SUFFIXES

    wanted = scale or 4
    names = {kind: name if shipped_model("superres", shipped_name(name, wanted)).is_file() else "psnr"
             for kind, name in AUTO.items()}
    loaded: dict = {}

    def model_for(path: Path):
        kind = "lossy" if path.suffix.lower() in LOSSY_SUFFIXES + tuple(VIDEO_SUFFIXES) else "lossless"
        if names[kind] not in loaded:
            loaded[names[kind]] = resolve_model(names[kind], wanted, threads, ensemble)[0]
        return loaded[names[kind]]

    return model_for


upscale_command.epilog = EPILOG
