"""The shared domain classifier's file handling: where a head's shipped one lives, and what a missing one says."""

import pytest

from gan_app.errors import UserError
from gan_app.metrics.domain_classifier import load_classifier
from gan_app.paths import WEIGHTS_ENV, shipped_classifier


def test_shipped_classifier_lives_beside_the_heads_model(tmp_path, monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path))
    assert shipped_classifier("myhead") == tmp_path / "myhead" / "classifier-v1.safetensors"


def test_a_missing_classifier_names_the_command_the_head_passes(tmp_path):
    with pytest.raises(UserError, match="train one with `gan-app myhead-classifier -o PATH`$"):
        load_classifier(tmp_path / "missing.safetensors", "`gan-app myhead-classifier -o PATH`")
