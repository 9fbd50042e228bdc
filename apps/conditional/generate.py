"""`gan-app generate` and `gan_app.load("conditional")`: images of chosen classes from an exported model.

Torch-free: ONNX Runtime + numpy + Pillow. The model's metadata names its classes, latent
size and value range; noise comes from numpy's seeded generator, so a seed reproduces the images.
The noise is untruncated by default: the shipped model's metrics were measured that way.
`ClassConditionalGenerator.generate` is the one sampling path; the CLI lays its images out in a grid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from gan_app.errors import UserError
from gan_app.runtime.sampling import (MAX_SAMPLES, check_count, check_grid_output, check_truncation, latents,
                                      resolve_seed, save_grid, to_uint8_images)

EPILOG = """Examples:

  gan-app generate --class Sneaker -n 64 -o sneakers.png

  gan-app generate --class 7 -n 16 --seed 3              # class by index, reproducible

  gan-app generate --each-class -n 8 -o all.png          # one row per class

  gan-app generate --class Bag --interpolate -n 10       # latent walk from --seed to --seed + 1

  gan-app generate --list-classes
"""


def resolve_class(text: str, names: list[str]) -> int:
    """Class index from an index or a name (case-insensitive; a unique prefix or part is enough: `boot`)."""
    if text.strip().isdigit():
        index = int(text)
        if index < len(names):
            return index
        raise UserError(f"class index {index} is out of range 0..{len(names) - 1}; see --list-classes")
    key = text.strip().lower()
    exact = [i for i, n in enumerate(names) if n.lower() == key]
    prefix = [i for i, n in enumerate(names) if n.lower().startswith(key)] if key else []
    part = [i for i, n in enumerate(names) if key in n.lower()] if key else []
    for found in (exact, prefix, part):
        if len(found) == 1:
            return found[0]
    raise UserError(f"unknown class {text!r}; valid classes: {', '.join(names)} (or an index 0..{len(names) - 1})")


class ClassConditionalGenerator:
    """`gan_app.load("conditional")`: `generate(class_="Sneaker", n=8, seed=3)` -> uint8 (n, H, W, C)."""

    def __init__(self, onnx, *, threads: int | None = None):
        self.onnx = onnx   # `threads` is already set on its session (the API passes it to every head's factory)
        self.classes: list[str] = list(onnx.spec.extra["class_names"])
        self.z_dim = int(onnx.spec.extra["z_dim"])

    def __repr__(self) -> str:
        return f"ClassConditionalGenerator({self.onnx.path.name!r}, classes={len(self.classes)})"

    def generate(self, class_: str | int, n: int = 16, seed: int | None = None, *, truncation: float = 0.0,
                 interpolate: bool = False) -> np.ndarray:
        """`n` images (n, H, W, C) uint8 of `class_` (a name, a unique part of one, or an index).

        `seed` None draws a fresh one; the same seed gives the same noise for every class.
        `truncation` > 0 redraws noise entries beyond +-T; `interpolate` walks from the draw of
        `seed` to that of `seed + 1` in `n` steps.
        """
        index = resolve_class(str(class_), self.classes)
        n = check_count(n)
        seed = int(np.random.default_rng().integers(2**31)) if seed is None else seed
        z = latents(n, self.z_dim, seed, interpolate, check_truncation(truncation))  # (n, Z)
        raw = self.onnx.run({"z": z, "label": np.full(n, index, dtype=np.int64)})   # (n, C, H, W)
        return to_uint8_images(raw, tuple(self.onnx.spec.value_range))


def generate_command(
    class_: Optional[str] = typer.Option(None, "--class", "-c", help="Class name or index (see --list-classes)."),
    n: int = typer.Option(64, "-n", "--count", help=f"Images (per class row with --each-class); at most {MAX_SAMPLES}."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Noise seed (default: random, printed)."),
    output: Path = typer.Option(Path("generated.png"), "-o", "--output", help="Grid PNG to write."),
    each_class: bool = typer.Option(False, "--each-class", help="One row per class (same noise in every row)."),
    interpolate: bool = typer.Option(False, "--interpolate", help="Latent walk from --seed to --seed + 1 in n steps."),
    list_classes: bool = typer.Option(False, "--list-classes", help="Print the model's classes and exit."),
    zoom: int = typer.Option(2, "--zoom", help="Integer upscaling of each image in the grid (nearest)."),
    model: Optional[str] = typer.Option(None, "--model", help="An exported conditional .onnx (default: the shipped model)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for ONNX Runtime."),
    truncation: float = typer.Option(0.0, "--truncation",
                                     help="Redraw noise entries beyond +-T: fidelity over variety (0: off)."),
) -> None:
    """Generate images of a class with the shipped conditional model (ONNX Runtime, no torch needed)."""
    from gan_app.api import resolve
    from gan_app.runtime.session import load_model

    onnx = load_model(resolve(model or "conditional", "conditional"), threads=threads)
    if onnx.head != "conditional":
        raise UserError(f"{onnx.path} is a {onnx.head!r} model; `gan-app generate` needs a conditional one")
    generator = ClassConditionalGenerator(onnx)
    names = generator.classes
    if list_classes:
        for i, name in enumerate(names):
            typer.echo(f"{i:>3}  {name}")
        return
    if (class_ is None) == (not each_class):
        raise UserError("pass --class NAME (or --each-class for a row per class); see --list-classes")
    check_grid_output(output, zoom, overwrite)
    check_truncation(truncation)
    classes = list(range(len(names))) if each_class else [resolve_class(class_, names)]
    n = check_count(n * len(classes), "-n x classes" if each_class else "-n") // len(classes)
    if n < 1:
        raise UserError(f"{len(classes)} class rows exceed the {MAX_SAMPLES}-image limit")
    seed = resolve_seed(seed)
    images = np.concatenate([generator.generate(c, n, seed, truncation=truncation, interpolate=interpolate)
                             for c in classes])                                    # (rows * n, H, W, C) uint8
    columns = n if (each_class or interpolate) else int(np.ceil(np.sqrt(n)))
    save_grid(images, columns, zoom, output, overwrite)
    what = f"{len(classes)} classes, {n} each" if each_class else names[classes[0]]
    typer.echo(f"wrote {output} ({len(images)} images of {what}, seed {seed})")


generate_command.epilog = EPILOG
