"""Generic CLI verbs beyond `train`: each is added only once its engine exists.

Command bodies import their engines lazily: `gan-app --help` stays fast and `gan-app
run` never imports torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional

import typer

from gan_app.apps.help_text import verbatim
from gan_app.apps.image_options import ENSEMBLE
from gan_app.apps.video_options import CODEC, CRF, DURATION, START, video_options
from gan_app.limits import DEFAULT_MAX_PIXELS

EPILOG_EXPORT = """Examples:

  gan-app export deblur --checkpoint runs/deblur/checkpoints/step_010000.safetensors -o deblur.onnx

  gan-app export deblur --checkpoint ckpt.safetensors -o deblur.onnx --int8 --fp16

  gan-app export paired --checkpoint runs/colorize/checkpoints/step_020000.safetensors   # installs `colorize`
"""

EPILOG_RUN = """Examples:

  gan-app run deblur photo.jpg                      # -> photo_deblurred.jpg, as `gan-app deblur` names it

  gan-app run upscale photo.jpg                     # a head's verb names it too: -> photo_x4.jpg

  gan-app run deblur shots/ -o restored/ --compare  # folders and globs; before|after PNGs

  gan-app run deblur huge.tif --model my.onnx --tile 512

  gan-app run colorize old_film.mp4 --crf 20           # video, frame by frame, audio kept
"""


def registrars() -> list[Callable]:
    """Functions that add a generic command to the typer app (export, eval, run)."""
    return [register_export, register_eval, register_run]


def register_export(app: typer.Typer) -> None:
    """`gan-app export HEAD --checkpoint CKPT -o model.onnx`."""

    def export(
        head: str = typer.Argument(..., help="Head name; must match the checkpoint's head."),
        checkpoint: Path = typer.Option(..., "--checkpoint", help="Checkpoint (.safetensors) written by `gan-app train`."),
        output: Optional[Path] = typer.Option(None, "-o", "--output", help="ONNX file to write; the model card goes beside it (.json). Default: install it as a user model under its name (`gan-app run NAME`)."),
        fp16: bool = typer.Option(False, "--fp16", help="Also write <name>.fp16.onnx (for GPU providers), with its parity and speed."),
        int8: bool = typer.Option(False, "--int8", help="Also write <name>.int8.onnx (dynamic quantization), with its parity and speed."),
        tolerance: float = typer.Option(1e-4, "--tolerance", help="Largest allowed |PyTorch - ONNX Runtime| difference (fp32)."),
        no_ema: bool = typer.Option(False, "--no-ema", help="Export the raw generator instead of its EMA weights."),
        install: bool = typer.Option(False, "--install", help="Without -o: install it as the head's user model, which its verb then runs instead of the shipped weights."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing output files (ONNX, card, variants)."),
    ) -> None:
        """Export a trained generator to ONNX; refuses to write it unless ONNX Runtime matches PyTorch."""
        from gan_app.errors import require_train_extra

        require_train_extra("`gan-app export`")
        from gan_app.export import export_checkpoint, summary

        variants = tuple(kind for kind, wanted in (("fp16", fp16), ("int8", int8)) if wanted)
        card = export_checkpoint(head, checkpoint, output, tolerance=tolerance, variants=variants, use_ema=not no_ema,
                                 overwrite=overwrite, install=install)
        for line in summary(card):
            typer.echo(line)
        if output is None:
            from gan_app.paths import model_card, user_model

            path = user_model(card["head"])
            typer.echo(f"installed user model {card['head']!r} at {path}; run it with `gan-app run {card['head']} IMAGE` "
                       f"(`gan-app heads` lists it); to remove it: rm {path} {model_card(path)}")

    app.command("export", help=export.__doc__, epilog=verbatim(EPILOG_EXPORT))(export)


def register_run(app: typer.Typer) -> None:
    """`gan-app run HEAD INPUT...`: any image-to-image head on ONNX Runtime (no torch)."""

    def run(
        head: str = typer.Argument(..., help="Head name, see `gan-app heads`."),
        inputs: List[str] = typer.Argument(..., help="Images, video clips, folders or glob patterns."),
        output: Optional[str] = typer.Option(None, "-o", "--output", help="Output file (one input) or folder."),
        model: Optional[str] = typer.Option(None, "--model", help="An exported .onnx file instead of the shipped weights."),
        tile: Optional[int] = typer.Option(None, "--tile", help="Tile size in input px for large images (0: never tile; default: automatic)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace existing outputs."),
        compare: bool = typer.Option(False, "--compare", help="Also write <output>_compare.png, before|after."),
        threads: Optional[int] = typer.Option(None, "--threads", help="ONNX Runtime CPU threads (default: all cores)."),
        max_pixels: int = typer.Option(DEFAULT_MAX_PIXELS, "--max-pixels", help="Largest output allowed, in pixels."),
        ensemble: str = ENSEMBLE,
        crf: int = CRF,
        codec: Optional[str] = CODEC,
        start: float = START,
        duration: Optional[float] = DURATION,
    ) -> None:
        """Run an image-to-image head on images and video clips with ONNX Runtime."""
        from gan_app.errors import UserError
        from gan_app.api import ImageModel, resolve, routed
        from gan_app.discovery import discover_heads, head_name
        from gan_app.head import Head
        from gan_app.runtime.batch import process_images
        from gan_app.runtime.ensemble import parse_ensemble
        from gan_app.runtime.session import load_model

        transforms = parse_ensemble(ensemble)
        head = head_name(head)
        # no --model: what the head's own verb runs (deblur routes camera JPEGs to its camera model)
        runner = routed(head, threads=threads, ensemble=transforms) if model is None else None
        onnx_model = runner.onnx if runner is not None else load_model(resolve(model or head, head), threads=threads)
        if onnx_model.head != head:
            raise UserError(f"{onnx_model.path} is a {onnx_model.head!r} model, not {head!r}")
        if onnx_model.image_input() is None or len(onnx_model.spec.inputs) != 1:
            kinds = ", ".join(f"{i.name} ({i.kind})" for i in onnx_model.spec.inputs)
            raise UserError(f"head {head!r} takes {kinds}, not just an image; use {_own_command(head)}")
        entry = discover_heads().get(head)
        suffix = ((entry.load() if entry is not None else None) or Head).output_suffix.format(scale=onnx_model.spec.scale)
        for path in process_images(runner or ImageModel(onnx_model, transforms), inputs, output, suffix=suffix, overwrite=overwrite, tile=tile,
                                   compare=compare, max_pixels=max_pixels, video=video_options(crf, codec, start, duration)):
            typer.echo(str(path))

    app.command("run", help=run.__doc__, epilog=verbatim(EPILOG_RUN))(run)


def _own_command(head: str) -> str:
    """How to run `head` when `gan-app run` cannot: its verb if it has one."""
    from gan_app.discovery import discover_heads

    entry = discover_heads().get(head)
    loaded = entry.load() if entry is not None else None
    if loaded is not None and loaded.verb:
        return f"`gan-app {loaded.verb}`"
    return "its own command (see `gan-app heads`)"


def register_eval(app: typer.Typer) -> None:
    """`gan-app eval HEAD --checkpoint CKPT [--data DIR]`: the head's metrics with their protocol."""

    def evaluate(
        head: str = typer.Argument(..., help="Head name (or a named model's name, e.g. colorize); must match the checkpoint."),
        checkpoint: Path = typer.Option(..., "--checkpoint", help="Checkpoint (.safetensors) written by `gan-app train`."),
        data: Optional[str] = typer.Option(None, "--data", help="Evaluation data (default: the head's held-out set)."),
        output: Optional[Path] = typer.Option(None, "-o", "--output", help="Also write the metrics as JSON here."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --output file."),
        no_ema: bool = typer.Option(False, "--no-ema", help="Evaluate the raw generator instead of its EMA weights."),
        classifier: Optional[Path] = typer.Option(
            None, "--classifier", help="For heads judged by a domain classifier: one trained on your data by the "
                                       "head's classifier verb (e.g. `gan-app conditional-classifier`); default: the shipped one."),
    ) -> None:
        """Evaluate a trained generator with the head's own metrics and protocol."""
        import json

        from gan_app.errors import UserError, require_train_extra

        require_train_extra("`gan-app eval`")
        from gan_app.checkpoint import load_generator
        from gan_app.runtime.files import atomic_output

        if output is not None and output.exists() and not overwrite:   # before the (long) evaluation, not after
            raise UserError(f"output {output} already exists; pass --overwrite to replace it")
        loaded, run, generator = load_generator(checkpoint, use_ema=not no_ema)
        if head not in (loaded.name, loaded.verb, loaded.model_name(run)):  # a named model answers to its name too
            raise UserError(f"{checkpoint} is a {loaded.model_name(run)!r} checkpoint of head {loaded.name!r}, not {head!r}")
        if classifier is not None and loaded.classifier_verb is None:
            raise UserError(f"head {loaded.name!r} is not judged by a classifier; drop --classifier")
        if classifier is not None and not classifier.is_file():
            raise UserError(f"--classifier {classifier} does not exist; train one with `gan-app {loaded.classifier_verb}`")
        metrics = loaded.evaluate(generator, run, data, **({"classifier": classifier} if classifier else {}))
        try:
            text = json.dumps(metrics, indent=2, allow_nan=False)   # NaN/Inf would be invalid JSON
        except ValueError:
            raise UserError(f"evaluating {checkpoint} gave NaN or infinite metrics: its weights are broken "
                            "(a diverged run?); nothing written") from None
        for key, value in metrics.items():
            if isinstance(value, (int, float, str)):
                typer.echo(f"{key:<24} {value:.4f}" if isinstance(value, float) else f"{key:<24} {value}")
            elif isinstance(value, dict):  # a breakdown, e.g. per_class: {name: {metric: number}}
                for name, row in value.items():
                    fields = row.items() if isinstance(row, dict) else [("value", row)]
                    typer.echo(f"{key:<24} {name:<16} " + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                                                              for k, v in fields))
        if output is not None:
            with atomic_output(output, overwrite=overwrite) as tmp:
                tmp.write_text(text)
            typer.echo(f"wrote {output}")

    app.command("eval", help=evaluate.__doc__)(evaluate)
