"""A tiny text-to-image model trained 2 steps on the generated shapes and exported, shared by these tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def trained(train_tiny):
    """(run, checkpoint path) of the `tiny` recipe after 2 engine steps."""
    run, _, checkpoint = train_tiny("text2image")
    return run, checkpoint


@pytest.fixture(scope="session")
def exported(trained, export_tiny):
    """The generator ONNX (its text encoder beside it as `<stem>.text.onnx`)."""
    return export_tiny("text2image", trained[1])
