"""The `--ensemble` option every image verb takes (`gan-app deblur|upscale|run`), declared once.

Typer reads options from each command's signature, so the verbs write `ensemble: str = ENSEMBLE` and
pass the text to `gan_app.api.load_image` (or `ImageModel`), which checks it (`runtime.ensemble.parse_ensemble`).
"""

from __future__ import annotations

import typer

ENSEMBLE = typer.Option(
    "1", "--ensemble",
    help="Average the model over 1, 2, 4 or 8 flips/transposes of each image (self-ensemble): N times the run "
         "time; x8 gains about +0.1 dB for upscaling, up to +0.4 dB for deblurring (docs/benchmarks.md).")
