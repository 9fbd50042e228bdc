"""--resume reads the header fields it needs checked: a missing or mistyped one is one line naming it."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import save_file

from gan_app.apps.toy.head import HEAD
from gan_app.checkpoint import META_KEY, checkpoint_path, read_checkpoint
from gan_app.errors import UserError
from gan_app.train.loop import fit


def _small_run():
    run = HEAD.recipe("tiny")
    run.model.width, run.model.depth, run.data.size = 16, 2, 64
    run.train.steps = run.train.ckpt_every = 2
    run.train.batch_size, run.train.sample_every = 32, 0
    return run


@pytest.fixture(scope="module")
def first_checkpoint(tmp_path_factory):
    return read_checkpoint(fit(HEAD, _small_run(), tmp_path_factory.mktemp("run")))


@pytest.fixture
def trained(first_checkpoint, tmp_path):
    tensors, meta = first_checkpoint
    return _small_run(), checkpoint_path(tmp_path, 2), tensors, meta


@pytest.mark.parametrize("dotted, value, message", [
    ("step", KeyError, r"header field 'step' is missing; --resume needs it"),
    ("step", "2", r"header field 'step' must be a whole number"),
    ("data", KeyError, r"header field 'data' is missing"),
    ("data.position", KeyError, r"header field 'data.position' must be a whole number >= 0, got null"),
    ("data.epoch", -1, r"header field 'data.epoch' must be a whole number >= 0"),
    ("optimizers", KeyError, r"header field 'optimizers' is missing"),
    ("run.model.width", "16", r"run\.model\.width must be a whole number"),
])
def test_resume_names_the_bad_header_field(trained, dotted, value, message, edited):
    run, path, tensors, meta = trained
    path.parent.mkdir(parents=True)
    save_file(tensors, str(path), metadata={META_KEY: json.dumps(edited(meta, dotted, value))})
    run.train.steps = 4
    with pytest.raises(UserError, match=message) as info:
        fit(HEAD, run, path.parent.parent, resume=True)
    assert "\n" not in str(info.value)
    assert not checkpoint_path(path.parent.parent, 4).exists()
