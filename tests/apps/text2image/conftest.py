"""A tiny text-to-image model trained 2 steps on the generated shapes and exported, shared by these tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """(run, checkpoint path) of the `tiny` recipe after 2 engine steps."""
    from gan_app.apps.text2image.head import HEAD
    from gan_app.config import apply_overrides
    from gan_app.train.loop import fit

    run = apply_overrides(HEAD.recipe("tiny"), ["train.device=cpu", "train.cpu_threads=1"])
    out = tmp_path_factory.mktemp("t2i-run")
    return run, fit(HEAD, run, out)


@pytest.fixture(scope="session")
def exported(trained, tmp_path_factory):
    """The generator ONNX (its text encoder beside it as `<stem>.text.onnx`)."""
    from gan_app.export import export_checkpoint

    path = tmp_path_factory.mktemp("t2i-export") / "t2i.onnx"
    export_checkpoint("text2image", trained[1], path)
    return path
