"""The deblur head object. Torch-free at import time: the inference verb runs on ONNX Runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional

import typer

from gan_app.config import RunConfig
from gan_app.limits import DEFAULT_MAX_PIXELS
from gan_app.apps.image_options import ENSEMBLE
from gan_app.apps.video_options import CODEC, CRF, DURATION, START, video_options
from gan_app.head import GraphInput, GraphSpec, Head

EPILOG = """Examples:

  gan-app deblur photo.jpg                      # writes photo_deblurred.jpg (the input's format)

  gan-app deblur render.png --model deblur-v2   # one model for every input instead of --model auto

  gan-app deblur shots/ -o sharp/ --compare     # a folder; side-by-side before|after PNGs

  gan-app deblur huge.tif --tile 512 --model my-deblur.onnx

  gan-app deblur shaky_24mp.jpg --blur-scale 2  # long blur: deblur at half size, keep full-size detail

  gan-app deblur shaky.jpg --blur-scale auto     # the level from a learned estimate of the blur's extent

  gan-app deblur car.jpg --motion auto           # a long straight streak: estimated, deconvolved, then the model

  gan-app deblur clip.mp4 --start 10 --duration 5 --compare   # video (pip install 'gan-app[video]')
"""


class DeblurHead(Head):
    name = "deblur"
    verb = "deblur"
    output_suffix = "_deblurred"
    summary = "Remove camera-shake and motion blur (DeblurGAN-style)."
    recipes_ref = ".recipes"
    model_config_ref = ".model:DeblurModelConfig"
    data_config_ref = ".data:DeblurDataConfig"
    loss_config_ref = ".model:DeblurLossConfig"
    # `--model auto` (the default) and `gan_app.load("deblur")`: a photo that shows JPEG's block grid went through
    # a camera or phone pipeline, the blur the camera model was trained on (linear light, long non-uniform
    # shake, noise, JPEG); a lossless file gets the default (sRGB blur). Rule and figures: docs/benchmarks.md, session 20.
    routed_models = ("deblur-v1-camera",)

    def route(self, pixels: Any) -> str | None:
        from gan_app.runtime.compression import looks_jpeg_compressed
        return self.routed_models[0] if looks_jpeg_compressed(pixels) else None

    def builtin_data(self) -> tuple[str, ...]:
        return ("photos",)

    def graph(self, model_cfg: Any) -> GraphSpec:
        from .model import size_multiple
        return GraphSpec(inputs=(GraphInput("image", "image", ("B", 3, "H", "W")),), value_range=(0.0, 1.0),
                         out_channels=3, scale=1, size_multiple=size_multiple(model_cfg))

    def build(self, model_cfg: Any) -> tuple[Any, Any]:
        from .model import build_critic, build_generator
        return build_generator(model_cfg), build_critic(model_cfg)

    def dataset(self, run: RunConfig, split: str) -> Any:
        from .data import build_dataset
        from .model import size_multiple
        return build_dataset(run.data, size_multiple(run.model))

    def objective(self, run: RunConfig) -> Any:
        from gan_app.losses.content import content_loss
        from gan_app.losses.pixel import frequency_l1_loss
        from gan_app.train.objective import ImageToImageObjective

        loss = run.loss
        fn = content_loss(loss.content_loss, ("conv3_3",), loss.vgg_weights, (0.0, 1.0))
        return ImageToImageObjective(loss.content_loss, fn, loss.content_weight,
                                     {"frequency_l1": (loss.fft_weight, frequency_l1_loss)},
                                     critic_sees_source=run.model.critic_sees_blurred)

    def evaluate(self, generator: Any, run: RunConfig, data: str | None) -> dict:
        from .evaluate import evaluate_generator
        return evaluate_generator(generator, run, data)

    def card_info(self, run: RunConfig) -> dict:
        m, d, loss = run.model, run.data, run.loss
        losses = [f"{loss.content_loss} x{loss.content_weight:g}"] + ([f"frequency L1 x{loss.fft_weight:g}"] if loss.fft_weight else [])
        if run.train.adv_weight:
            losses.append(f"{run.train.loss} x{run.train.adv_weight:g}" + (f" + GP x{run.train.gp_weight:g}" if run.train.gp_weight else ""))
        data = ("offline photo set (shared/DATA.md), held-out photos excluded" if d.path == "photos" else d.path)
        if d.path == "photos" and d.wallpapers:
            from gan_app.data.photos import wallpaper_description
            data += f" + {wallpaper_description()}"
        synth = (f"synthetic {d.blur} blur in sRGB (kernel {d.kernel_size}px, length <= {d.max_length:g}px), "
                 f"noise <= {d.noise:g}, JPEG p={d.jpeg_prob:g}")
        if d.realistic:
            synth = (f"{d.realistic:.0%} realistic camera shake (linear light, highlights, translation "
                     f"{d.camera_min_length:g}-{d.camera_max_length:g}px + roll <= {d.camera_max_roll:g} deg, shot/read noise, JPEG q85-95), "
                     f"{1 - d.realistic:.0%} " + synth)
        return {"data": f"{data}; crop {d.crop}; {synth}",
                "losses": losses, "generator": m.generator,
                "critic": m.critic + (" (conditional: sees the blurred input)" if m.critic_sees_blurred else "")}

    def inference_command(self):
        return deblur_command

    def extra_commands(self) -> dict:
        return {"deblur-data": deblur_data_command}


EXAMPLE = Path(__file__).parent / "assets" / "clock_motion.png"


def deblur_command(
    inputs: Optional[List[str]] = typer.Argument(None, help="Images, video clips, folders or globs."),
    example: bool = typer.Option(False, "--example", help="Deblur the bundled real motion-blurred photo (clock_motion.png)."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Output file (one input) or folder."),
    model: str = typer.Option(
        "auto", "--model",
        help="auto: photos that show JPEG compression (camera and phone shots) get deblur-v1-camera, lossless "
             "files the newest default (deblur-v2); or a model name (`gan-app models`) or FILE.onnx for every input."),
    tile: Optional[int] = typer.Option(None, "--tile", help="Tile size in input px for large images (0: never tile; default: automatic)."),
    compare: bool = typer.Option(False, "--compare", help="Also write a side-by-side before|after PNG."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for ONNX Runtime."),
    max_pixels: int = typer.Option(DEFAULT_MAX_PIXELS, "--max-pixels", help="Largest image allowed, in pixels."),
    blur_scale: Optional[str] = typer.Option(
        None, "--blur-scale",
        help="Pyramid level to deblur at: 1 (full size; blur up to ~45 px), 2 or 4 for longer blur in big photos "
             "(the model runs at 1/2 or 1/4 size and only its correction is scaled back, so full-size detail stays), "
             "or auto (a learned estimate of the blur's extent picks the level; one level per clip). Default: the "
             "model's own, auto for deblur-v1-camera (camera shots), 1 for the others."),
    motion: str = typer.Option(
        "off", "--motion",
        help="Remove a long straight motion streak first (a passing car, a panning shot): auto (estimated from "
             "the photo; one estimate per clip), LENGTH,ANGLE (pixels, degrees counter-clockwise, e.g. 30,45), "
             "or off. Not for ordinary hand shake, which is curved: there it makes photos worse."),
    ensemble: str = ENSEMBLE,
    crf: int = CRF,
    codec: Optional[str] = CODEC,
    start: float = START,
    duration: Optional[float] = DURATION,
) -> None:
    """Deblur photos with the shipped model (ONNX Runtime, no torch needed)."""
    from gan_app.errors import UserError
    from gan_app.runtime.batch import process_images
    from gan_app.runtime.ensemble import parse_ensemble
    from gan_app.runtime.motion import parse_motion
    from gan_app.runtime.pyramid import parse_level
    from gan_app.api import load_image

    level = None if blur_scale is None else parse_level(blur_scale)
    transforms, streak = parse_ensemble(ensemble), parse_motion(motion)
    if example:
        inputs = [str(EXAMPLE)]
        output = output or Path("clock_motion_deblurred.png")
    if not inputs:
        raise UserError("no input given; pass image files, folders or globs (or --example)")

    deblurrer = load_image("deblur" if model == "auto" else model, threads=threads, head="deblur", kind="deblur",
                           ensemble=transforms).with_motion(streak)
    for path in process_images(deblurrer, inputs, output, suffix=HEAD.output_suffix, overwrite=overwrite, tile=tile,
                               compare=compare, level=level, max_pixels=max_pixels,
                               video=video_options(crf, codec, start, duration)):
        typer.echo(str(path))


deblur_command.epilog = EPILOG


def deblur_data_command(
    sharp_dir: Path = typer.Argument(..., help="Folder of sharp photos."),
    out_dir: Path = typer.Argument(..., help="New folder for blur/, sharp/ and kernels/."),
    per_image: int = typer.Option(1, "--per-image", help="Blurred versions per photo."),
    blur: str = typer.Option("shake", "--blur", help="shake (camera-shake trajectories), linear or mix."),
    max_length: float = typer.Option(20.0, "--max-length", help="Longest blur path in pixels."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
) -> None:
    """Write a paired blur/sharp set (with its kernels) from sharp photos, for inspection and reuse."""
    from gan_app.errors import require_train_extra
    require_train_extra("`gan-app deblur-data`")
    from .data import write_paired_set
    n = write_paired_set(sharp_dir, out_dir, per_image=per_image, blur=blur, max_length=max_length, seed=seed)
    typer.echo(f"wrote {n} pairs to {out_dir}")


HEAD = DeblurHead()
