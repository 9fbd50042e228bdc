"""One resolver for shipped weights and caches; nothing is relative to the working directory.

Shipped weights live in the `gan_app.weights` package (`weights/<head>/<head>-v1.onnx`
in the repository). `GAN_APP_WEIGHTS` points the resolver at another folder with the
same layout, e.g. a team's own model store.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

WEIGHTS_ENV = "GAN_APP_WEIGHTS"


def weights_root() -> Path:
    """The folder that holds `<head>/<head>-v1.onnx` files."""
    override = os.environ.get(WEIGHTS_ENV)
    if override:
        return Path(override).expanduser()
    return Path(str(resources.files("gan_app.weights")))


def shipped_model(head: str, variant: str = "v1") -> Path:
    """Path of a head's shipped ONNX model (may not exist: callers check)."""
    return weights_root() / head / f"{head}-{variant}.onnx"


def model_card(onnx_path: Path) -> Path:
    """The JSON model card that sits beside an ONNX file."""
    return onnx_path.with_suffix(".json")
