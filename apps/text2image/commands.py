"""Extra CLI verb of the text-to-image head: `gan-app text2image-classifier` (trains the metric classifier)."""

from __future__ import annotations

from pathlib import Path

import typer


def classifier_command(
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the classifier (.safetensors)."),
    train_images: int = typer.Option(20_000, "--train-images", help="Generated shapes images (all colour x shape pairs)."),
    epochs: int = typer.Option(3, "--epochs", help="Training epochs."),
    resolution: int = typer.Option(32, "--resolution", help="Image size of the generator it will judge."),
    threads: int = typer.Option(0, "--threads", help="torch CPU threads (0: torch's default)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
) -> None:
    """Train the attribute classifier that `gan-app eval text2image` uses (shapes set, one head per attribute)."""
    from gan_app.errors import UserError, require_train_extra
    require_train_extra("`gan-app text2image-classifier`")
    import torch

    from gan_app.data.ranges import to_model_range
    from gan_app.metrics.domain_classifier import check_classifier_output, save_classifier

    from .classifier import CLASS_NAMES, attribute_accuracy, predict, train_attribute_classifier
    from .shapes import shapes_split

    check_classifier_output(output, epochs, overwrite)
    if train_images < 1:
        raise UserError(f"--train-images must be >= 1, got {train_images}")
    if threads:
        torch.set_num_threads(threads)
    train = shapes_split("judge", train_images, resolution)
    model, info = train_attribute_classifier(train.images, train.attributes, epochs=epochs, seed=seed,
                                             log=lambda s: typer.echo(s, err=True))
    for split in ("val", "heldout"):
        real = shapes_split(split, 2000, resolution)
        info[f"real_{split}_accuracy"] = attribute_accuracy(predict(model, to_model_range(real.images))[1], real.attributes)
        typer.echo(f"real {split} images: {info[f'real_{split}_accuracy']}")
    info.update({"data": "shapes judge split (every colour x shape pair)", "name": output.name})
    save_classifier(model, output, CLASS_NAMES, info)
    typer.echo(f"wrote {output}")
