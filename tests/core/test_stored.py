"""Stored run configs in older layouts (loss settings inside `model`, renamed fields) read as today's."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
import torch

from gan_app.apps.deblur.head import HEAD
from gan_app.apps.deblur.model import DeblurLossConfig, DeblurModelConfig
from gan_app.checkpoint import META_KEY, checkpoint_path, load_generator, read_checkpoint
from gan_app.config import EmptyLossConfig, apply_overrides, to_dict
from gan_app.errors import UserError
from gan_app.export import export_checkpoint
from gan_app.stored import migrate_run, read_run_file, run_from_dict, split_model
from gan_app.train.loop import fit


def old_layout(run: dict) -> dict:
    """`run` as gan-app wrote it before the loss section: the loss keys inside `model`, VGG weights
    under their old name `perceptual_weights`."""
    loss = dict(run["loss"])
    loss["perceptual_weights"] = loss.pop("vgg_weights")
    return {key: value for key, value in run.items() if key != "loss"} | {"model": {**run["model"], **loss}}


def test_loss_keys_move_out_of_the_model_and_old_names_take_the_new_one():
    stored = {"head": "deblur", "model": {"width": 8, "content_weight": 5.0, "perceptual_weights": "random"},
              "data": {}, "train": {}}
    migrated = migrate_run(stored, DeblurModelConfig, DeblurLossConfig)
    assert migrated["model"] == {"width": 8}
    assert migrated["loss"] == {"content_weight": 5.0, "vgg_weights": "random"}
    assert "loss" not in stored and "content_weight" in stored["model"]      # the input is left as it is
    run = run_from_dict(HEAD, stored, "old.json")
    assert run.loss == DeblurLossConfig(content_weight=5.0, vgg_weights="random") and run.model.width == 8
    # the loss section, where a file has one, wins over a stale copy in the model
    both = migrate_run({**stored, "loss": {"content_weight": 7.0}}, DeblurModelConfig, DeblurLossConfig)
    assert both["loss"]["content_weight"] == 7.0


def test_a_head_keeps_its_own_field_of_an_old_name_and_without_a_loss_config_nothing_moves():
    @dataclass
    class PluginModel:
        perceptual_weights: str = "imagenet"   # a third-party head's own field of that name
        content_weight: float = 1.0

    assert split_model({"perceptual_weights": "x", "content_weight": 2.0}, PluginModel, EmptyLossConfig) == (
        {"perceptual_weights": "x", "content_weight": 2.0}, {})
    assert split_model({"perceptual_weights": "x", "content_weight": 2.0}, PluginModel, DeblurLossConfig) == (
        {"perceptual_weights": "x", "content_weight": 2.0}, {})    # the model's own fields stay in the model


def test_an_old_field_name_in_set_says_the_new_one():
    run = HEAD.recipe("tiny")
    with pytest.raises(UserError, match=r"no such field; it is loss\.content_weight now"):
        apply_overrides(run, ["model.content_weight=10"])
    with pytest.raises(UserError, match=r"no such field; it is loss\.vgg_weights now"):
        apply_overrides(run, ["model.perceptual_weights=random"])


@pytest.fixture(scope="module")
def old_checkpoint(tmp_path_factory):
    """(today's run, a deblur `tiny` checkpoint whose header is in the layout before the loss section)."""
    from safetensors.torch import save_file

    run = HEAD.recipe("tiny")
    apply_overrides(run, ["train.device=cpu", "train.cpu_threads=1", "loss.content_weight=50", "loss.fft_weight=2"])
    out = tmp_path_factory.mktemp("old")
    path = fit(HEAD, run, out)
    tensors, meta = read_checkpoint(path)
    meta["run"] = old_layout(meta["run"])
    save_file(tensors, str(path), metadata={META_KEY: json.dumps(meta)})
    (out / "config.json").write_text(json.dumps(old_layout(to_dict(run))))
    return run, path


def test_an_old_layout_checkpoint_loads_exports_and_its_config_json_reads(old_checkpoint, tmp_path):
    run, path = old_checkpoint
    _, loaded, generator = load_generator(path)
    assert to_dict(loaded) == to_dict(run)
    card = export_checkpoint("deblur", path, tmp_path / "m.onnx")
    assert card["loss_config"] == to_dict(run.loss) and "content_weight" not in card["model_config"]
    assert to_dict(read_run_file(HEAD, path.parents[1] / "config.json")) == to_dict(run)
    x = torch.rand(1, 3, 16, 16)
    _, _, again = load_generator(path)
    torch.testing.assert_close(generator(x), again(x))


def test_an_old_layout_run_resumes_from_its_config_json_naming_the_changes(old_checkpoint, capsys):
    run, path = old_checkpoint
    out = path.parents[1]
    resumed = read_run_file(HEAD, out / "config.json")
    apply_overrides(resumed, ["train.steps=3", "loss.content_weight=10"])
    assert fit(HEAD, resumed, out, resume=True) == checkpoint_path(out, 3)
    assert "resuming with train.steps 2 -> 3, loss.content_weight 50.0 -> 10.0\n" in capsys.readouterr().err
    assert read_checkpoint(checkpoint_path(out, 3))[1]["run"]["loss"]["content_weight"] == 10.0
