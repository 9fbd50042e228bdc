"""Fixtures for the runtime tests: tiny generators exported once per session, and a real photo."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest


def load_tiny_models():
    """tests/core/runtime/tiny_models.py as a module (tests are not a package, so import it by path)."""
    name = "gan_app_test_tiny_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("tiny_models.py"))
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


@pytest.fixture(scope="session")
def tiny():
    return load_tiny_models()


@pytest.fixture(scope="session")
def exported(tiny, tmp_path_factory) -> dict[str, Path]:
    """kind -> path of an exported tiny model: conv (scale 1), sr (scale 2), sr4 (scale 4), cond (latent + label)."""
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for kind in ("conv", "sr", "sr4", "cond"):
        paths[kind] = folder / f"{kind}.onnx"
        tiny.export_tiny(paths[kind], kind)
    return paths


@pytest.fixture(scope="session")
def photo() -> np.ndarray:
    """(96, 128, 3) uint8 crop of a real photo (scikit-image's chelsea)."""
    from skimage import data

    return np.ascontiguousarray(data.chelsea()[100:196, 150:278])
