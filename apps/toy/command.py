"""`gan-app toy ring|sine`: train a 2-D toy GAN with the engine, report coverage, plot the points.

Torch-free at import time (the CLI imports this to register the command).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import List, Optional

import typer

EPILOG = """Examples:

  gan-app toy ring                          # recommended recipe: non-saturating + R1

  gan-app toy ring --loss minimax           # minimax, no R1, but the stabilised optimiser settings

  gan-app toy ring --recipe classic         # Metz et al.'s plain setup: watch it collapse

  gan-app toy sine --steps 2000 -o sine.png
"""


def toy_command(
    kind: str = typer.Argument(..., help="ring (8 Gaussians, Metz et al.) or sine."),
    recipe: str = typer.Option("default", "--recipe", help="default (non-saturating + R1, stabilised Adam, EMA) or classic (plain GAN setup of the early papers)."),
    loss: str = typer.Option("nonsaturating", "--loss", help="Adversarial game, e.g. nonsaturating, minimax, wgan, hinge, lsgan."),
    r1: Optional[float] = typer.Option(None, "--r1", help="R1 penalty gamma. Default: the recipe's with --loss nonsaturating, 0 (the plain game) with any other loss."),
    steps: Optional[int] = typer.Option(None, "--steps", help="Generator steps (default 5000)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Random seed."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="PNG of real vs generated points (default toy_KIND.png)."),
    run_dir: Optional[Path] = typer.Option(None, "--out", "--run-dir", help="Keep the run folder (checkpoint, metrics.jsonl, samples) here, as `train --out`."),
    set_: List[str] = typer.Option([], "--set", help="Override a config field, e.g. --set train.lr_g=5e-4 (repeatable)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output PNG."),
) -> None:
    """Train a toy GAN on 2-D points and report mode coverage and high-quality fraction."""
    from gan_app.errors import require_train_extra

    require_train_extra("`gan-app toy`")
    from gan_app.config import apply_overrides

    from .head import HEAD

    from gan_app.errors import UserError

    if recipe not in ("default", "classic"):
        raise UserError(f"unknown toy recipe {recipe!r}; use default or classic")
    run = HEAD.recipe(recipe)
    overrides = [f"data.kind={kind}", f"train.loss={loss}"]
    if r1 is not None or loss != run.train.loss:  # another game without --r1 means the plain game
        overrides.append(f"train.r1_weight={r1 if r1 is not None else 0.0}")
    if steps is not None:
        overrides.append(f"train.steps={steps}")
    if seed is not None:
        overrides.append(f"train.seed={seed}")
    apply_overrides(run, overrides + list(set_))
    output = output or Path(f"toy_{kind}.png")
    if output.exists() and not overwrite:   # before training, not after
        raise UserError(f"output {output} already exists; pass --overwrite to replace it")
    if run_dir is not None:
        result = train_and_report(run, run_dir, output)
    else:
        with tempfile.TemporaryDirectory(prefix="gan-app-toy-") as tmp:
            result = train_and_report(run, Path(tmp), output)
    for record in result["history"]:
        typer.echo(f"  step {record['step']:>6}: modes {record['eval/modes_covered']}/{record['eval/modes']}, "
                   f"high quality {100 * record['eval/high_quality']:.1f}%")
    typer.echo(
        f"{kind}, {run.train.loss}{f' + R1 {run.train.r1_weight:g}' if run.train.r1_weight else ''}, {run.train.steps} steps "
        f"in {result['seconds']:.1f} s: modes covered {result['modes_covered']}/{result['modes']}, "
        f"high quality {100 * result['high_quality']:.1f}%  (points per mode: {result['per_mode']})"
    )
    typer.echo(f"wrote {output}")


def train_and_report(run, out_dir: Path, png: Path) -> dict:
    """Train `run` with the engine, evaluate its EMA generator, plot real vs generated points.

    Also returns the coverage logged during training (`history`), so a collapse or mode
    hopping on the way shows even when the last step looks fine.
    """
    import time

    import torch

    from gan_app.checkpoint import load_generator
    from gan_app.train.logging import read_metrics
    from gan_app.train.loop import fit

    from .data import sample_points
    from .head import EVAL_SAMPLES, HEAD

    start = time.perf_counter()
    checkpoint = fit(HEAD, run, out_dir)
    seconds = time.perf_counter() - start
    _, run, generator = load_generator(checkpoint)
    result = HEAD.evaluate(generator, run, None)
    z = torch.randn(EVAL_SAMPLES, run.model.z_dim, generator=torch.Generator().manual_seed(run.train.seed))
    with torch.no_grad():
        fake = generator(z)  # (N, 2)
    real = sample_points(run.data, EVAL_SAMPLES, torch.Generator().manual_seed(run.train.seed + 1))  # (N, 2)
    plot_points(real, fake, run, result, png)
    history = [r for r in read_metrics(out_dir / "metrics.jsonl") if "eval/modes_covered" in r]  # every eval_every steps
    return {**result, "seconds": seconds, "history": history}


def plot_points(real, fake, run, result: dict, png: Path) -> None:
    """Scatter plot: real points (grey) under generated ones (colour), metrics in the title."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .data import extent

    half = extent(run.data)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(real[:, 0], real[:, 1], s=2, c="0.6", label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:red", alpha=0.4, label="generated")
    ax.set_xlim(-half, half)
    ax.set_ylim(-half, half)
    ax.set_aspect("equal")
    ax.legend(loc="upper right", markerscale=4)
    penalty = f" + R1 {run.train.r1_weight:g}" if run.train.r1_weight else ""
    ax.set_title(f"{run.data.kind}, {run.train.loss}{penalty}, {run.train.steps} steps\n"
                 f"modes {result['modes_covered']}/{result['modes']}, high quality {100 * result['high_quality']:.1f}%")
    fig.tight_layout()
    from gan_app.runtime.files import atomic_output

    Path(png).parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(Path(png)) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


toy_command.epilog = EPILOG
