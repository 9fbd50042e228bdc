"""Tiny labelled data, a 2-step trained tiny model and its ONNX export, shared by these tests."""

from __future__ import annotations

import numpy as np
import pytest

from gan_app.data.idx import write_idx


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
def trained(idx_dir, tmp_path_factory):
    """(run dir, last checkpoint) of the `tiny` recipe trained 2 steps through the one engine."""
    import torch

    from gan_app.apps.conditional.head import HEAD
    from gan_app.config import apply_overrides
    from gan_app.train.loop import fit

    torch.set_num_threads(1)
    run = HEAD.recipe("tiny")
    apply_overrides(run, [f"data.path={idx_dir}", "model.num_classes=2", "train.device=cpu"])
    out = tmp_path_factory.mktemp("run")
    return out, fit(HEAD, run, out)


@pytest.fixture(scope="session")
def exported(trained, tmp_path_factory):
    """The tiny trained generator exported to ONNX (with parity checked by the exporter)."""
    from gan_app.export import export_checkpoint

    path = tmp_path_factory.mktemp("onnx") / "tiny-conditional.onnx"
    export_checkpoint("conditional", trained[1], path)
    return path
