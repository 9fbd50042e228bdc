"""Tiny labelled data, a 2-step trained tiny model and its ONNX export, shared by these tests."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

write_idx = runpy.run_path(str(Path(__file__).parents[2] / "core" / "data" / "idx_files.py"))["write_idx"]


def make_idx_set(folder, n_train=48, n_test=16, size=12, classes=2, seed=0):
    """MNIST-style files: class c images are bright in row band c (easy to tell apart), plus noise."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % classes).astype(np.uint8)
        images = rng.integers(0, 40, (n, size, size)).astype(np.uint8)
        band = size // classes
        for i, c in enumerate(labels):
            images[i, c * band:(c + 1) * band] = 220
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.fixture(scope="session")
def idx_dir(tmp_path_factory):
    return make_idx_set(tmp_path_factory.mktemp("idx"))


@pytest.fixture(scope="session")
def trained(idx_dir, train_tiny):
    """(run dir, last checkpoint) of the `tiny` recipe trained 2 steps through the one engine."""
    _, out, checkpoint = train_tiny("conditional", [f"data.path={idx_dir}", "model.num_classes=2"])
    return out, checkpoint


@pytest.fixture(scope="session")
def exported(trained, export_tiny):
    """The tiny trained generator exported to ONNX (with parity checked by the exporter)."""
    return export_tiny("conditional", trained[1])
