"""Extra CLI verbs of the conditional head: `gan-app conditional-classifier` (trains the metric classifier)."""

from __future__ import annotations

from pathlib import Path

import typer


def classifier_command(
    data: str = typer.Option("fashion-mnist", "--data", help="fashion-mnist, mnist, kmnist, an IDX folder or a class-folder tree."),
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the classifier (.safetensors)."),
    epochs: int = typer.Option(4, "--epochs", help="Training epochs over the real training set."),
    channels: int = typer.Option(1, "--channels", help="Image channels of the generator it will judge (1 or 3)."),
    resolution: int = typer.Option(32, "--resolution", help="Image size of the generator it will judge."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
) -> None:
    """Train the domain classifier that `gan-app eval conditional` uses for accuracy, IS-style score and Fréchet distance."""
    from gan_app.errors import require_train_extra
    require_train_extra("`gan-app conditional-classifier`")
    import torch

    from gan_app.metrics.domain_classifier import check_classifier_output

    from .classifier import ClassifierConfig, save_classifier, train_classifier
    from .data import ConditionalDataConfig, load_split

    check_classifier_output(output, epochs, overwrite)
    cfg = ConditionalDataConfig(path=data)
    train, test = (load_split(cfg, s, channels, resolution) for s in ("train", "test"))
    for note in train.notes:
        typer.echo(note, err=True)
    model, info = train_classifier(torch.from_numpy(train.images), torch.from_numpy(train.labels),
                                   torch.from_numpy(test.images), torch.from_numpy(test.labels),
                                   ClassifierConfig(channels, resolution, len(train.class_names)), epochs=epochs,
                                   seed=seed, log=lambda s: typer.echo(s, err=True))
    info.update({"data": data, "name": output.name})
    save_classifier(model, output, train.class_names, info)
    typer.echo(f"wrote {output} (test accuracy {info['test_accuracy']:.4f})")
