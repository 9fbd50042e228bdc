"""`gan-app text2img "CAPTION"` and `gan_app.load("text2image")`: images from a caption.

Torch-free: ONNX Runtime + numpy + Pillow. The caption is tokenised with the vocabulary stored
in the text encoder graph (`<stem>.text.onnx`), embedded, and rendered by the generator graph
with noise from numpy's seeded generator, so `--seed` reproduces a picture. The noise is
truncated at TRUNCATION by default (the setting `gan-app eval text2image` measures).
`--interpolate A B` walks linearly from caption A's embedding to caption B's (GAN-INT) with
the noise held fixed. `TextToImageGenerator` is the one sampling path; the CLI lays out its images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import typer

from gan_app.errors import UserError
from gan_app.runtime.sampling import (MAX_SAMPLES, check_count, check_grid_output, check_truncation, normal_latents,
                                     resolve_seed, save_grid, to_uint8_images)

from .text_runtime import TextEncoderSession, text_graph_path

# Default noise truncation (|z| <= 1 per coordinate). Chosen on a separate draw of the seen pairs
# (not the benchmark's): at 20,000 steps shape accuracy 0.896 untruncated -> 0.915 at 1.0, Fréchet
# distance 7.99 -> 7.40, so the tails of z only cost fidelity here. `--truncation 0` turns it off.
TRUNCATION = 1.0

EPILOG = """Examples:

  gan-app text2img "a small red circle at the top left" -n 16 -o red.png

  gan-app text2img "big blue triangle, center" --seed 3         # reproducible

  gan-app text2img --interpolate "a red square at the left" "a yellow square at the right" -n 8

  gan-app text2img --list-words
"""


def interpolate_embeddings(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """(steps, T): a (T,) to b (T,) in equal linear steps (how GAN-INT mixes captions)."""
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]  # (steps, 1)
    return ((1 - t) * a + t * b).astype(np.float32)


class TextToImageGenerator:
    """`gan_app.load("text2image")`: `generate("a red circle", n=8, seed=3)` -> uint8 (n, H, W, 3)."""

    def __init__(self, onnx, *, threads: int | None = None):
        self.onnx = onnx
        self.text = TextEncoderSession(text_graph_path(onnx.path), threads)
        self.z_dim = int(onnx.spec.extra["z_dim"])

    def __repr__(self) -> str:
        return f"TextToImageGenerator({self.onnx.path.name!r})"

    @property
    def words(self) -> list[str]:
        """The words this model knows, sorted."""
        return sorted(self.text.vocab.pieces)

    def generate(self, caption: str, n: int = 8, seed: int | None = None, *,
                 truncation: float = TRUNCATION) -> np.ndarray:
        """`n` images (n, H, W, 3) uint8 of `caption`, each with its own noise (seeded by `seed`)."""
        embedding = np.repeat(self.text.encode([caption]), check_count(n), axis=0)   # (n, T)
        z = normal_latents(np.random.default_rng(seed), (len(embedding), self.z_dim), check_truncation(truncation))
        return self._render(z, embedding)

    def interpolate(self, start: str, end: str, n: int = 8, seed: int | None = None, *,
                    truncation: float = TRUNCATION) -> np.ndarray:
        """`n` images (n, H, W, 3) uint8 walking from caption `start` to `end` (GAN-INT), one noise for all."""
        ends = self.text.encode([start, end])                                         # (2, T)
        embedding = interpolate_embeddings(ends[0], ends[1], check_count(n))          # (n, T)
        z = np.repeat(normal_latents(np.random.default_rng(seed), (1, self.z_dim), check_truncation(truncation)), n, axis=0)
        return self._render(z, embedding)

    def _render(self, z: np.ndarray, embedding: np.ndarray) -> np.ndarray:
        raw = self.onnx.run({"z": z, "embedding": embedding})   # (n, 3, R, R)
        return to_uint8_images(raw, tuple(self.onnx.spec.value_range))


def text2img_command(
    caption: Optional[str] = typer.Argument(None, help="What to draw, e.g. \"a small red circle at the top left\"."),
    n: int = typer.Option(8, "-n", "--count", help=f"Images to generate (steps with --interpolate); at most {MAX_SAMPLES}."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Noise seed (default: random, printed)."),
    output: Path = typer.Option(Path("text2img.png"), "-o", "--output", help="Grid PNG to write."),
    interpolate: Optional[Tuple[str, str]] = typer.Option(None, "--interpolate", help="Two captions A B: walk from A to B.",
                                                          show_default=False),
    list_words: bool = typer.Option(False, "--list-words", help="Print the words the model knows and exit."),
    zoom: int = typer.Option(2, "--zoom", help="Integer upscaling of each image in the grid (nearest)."),
    model: Optional[str] = typer.Option(None, "--model", help="An exported text2image .onnx (default: the shipped model)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output file."),
    threads: Optional[int] = typer.Option(None, "--threads", help="CPU threads for ONNX Runtime."),
    truncation: float = typer.Option(TRUNCATION, "--truncation",
                                     help="Redraw noise entries beyond +-T: fidelity over variety (0: off)."),
) -> None:
    """Generate images from a caption with the shipped text-to-image model (ONNX Runtime, no torch needed)."""
    from gan_app.api import resolve
    from gan_app.runtime.session import load_model

    onnx = load_model(resolve(model or "text2image", "text2image"), threads=threads)
    if onnx.head != "text2image":
        raise UserError(f"{onnx.path} is a {onnx.head!r} model; `gan-app text2img` needs a text2image one")
    generator = TextToImageGenerator(onnx, threads=threads)
    if list_words:
        typer.echo(" ".join(generator.words))
        return
    if interpolate is not None and all(x is None for x in interpolate):
        interpolate = None  # typer's "not given" for a two-value option
    if (caption is None) == (interpolate is None):
        raise UserError("pass one CAPTION, or --interpolate \"A\" \"B\" (not both)")
    check_grid_output(output, zoom, overwrite)
    n = check_count(n)
    check_truncation(truncation)
    captions = list(interpolate) if interpolate is not None else [caption]
    generator.text.tokens(captions, warn=lambda note: None)  # bad captions fail before the seed is printed
    seed = resolve_seed(seed)
    if interpolate is not None:
        images = generator.interpolate(interpolate[0], interpolate[1], n, seed, truncation=truncation)
        columns = n
    else:
        images = generator.generate(caption, n, seed, truncation=truncation)
        columns = int(np.ceil(np.sqrt(n)))
    save_grid(images, columns, zoom, output, overwrite)
    what = f"{interpolate[0]!r} -> {interpolate[1]!r}" if interpolate is not None else repr(caption)
    typer.echo(f"wrote {output} ({n} images of {what}, seed {seed})")


text2img_command.epilog = EPILOG
