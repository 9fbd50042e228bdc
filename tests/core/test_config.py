"""Config values are typed and checked where they enter: `--set`, JSON from a checkpoint, the engine."""

from __future__ import annotations

import json

import pytest

from gan_app.config import TrainConfig, apply_overrides, check_section, from_dict, to_dict
from gan_app.errors import UserError
from gan_app.discovery import discover_heads, get_head


@pytest.mark.parametrize("override, field", [
    ("train.gp_weight=nan", "train.gp_weight"),
    ("train.lr_g=nan", "train.lr_g"),
    ("train.lr_d=inf", "train.lr_d"),
    ("train.r1_weight=-inf", "train.r1_weight"),
    ("data.max_length=nan", "data.max_length"),
    ("data.realistic=1e400", "data.realistic"),
    ("train.betas=[0.5]", "train.betas"),
    ("train.betas=0.5", "train.betas"),
    ("train.betas=null", "train.betas"),
    ('train.betas={"a":1}', "train.betas"),
    ("train.betas=[1,2,3]", "train.betas"),
    ("train.betas=[0.5,NaN]", "train.betas"),
    ("train.betas=[0.5,1.0]", "train.betas"),
    ("model.width=0", "model.width"),
    ("model.levels=0", "model.levels"),
    ("model.width=1.5", "model.width"),
    ("data.crop=0", "data.crop"),
    ("data.crop=-32", "data.crop"),
    ("data.kernel_size=0", "data.kernel_size"),
    ("data.noise=-1", "data.noise"),
    ("train.num_workers=-1", "train.num_workers"),
    ("train.ema_decay=1", "train.ema_decay"),
    ("data.path=", "data.path"),
])
def test_bad_overrides_are_one_line_errors_naming_the_field(override, field):
    run = get_head("deblur").recipe("tiny")
    before = to_dict(run)
    with pytest.raises(UserError, match=rf"^--set .*: {field} must ") as info:
        apply_overrides(run, [override])
    assert "\n" not in str(info.value)
    assert to_dict(run) == before  # nothing half-applied


def test_good_overrides_still_parse():
    run = apply_overrides(get_head("deblur").recipe("tiny"),
                          ["train.betas=0.4,0.9", "train.lr_g=1e-3", "data.noise=0", "model.width=8", "train.amp=off"])
    assert run.train.betas == (0.4, 0.9) and run.train.lr_g == 1e-3 and run.model.width == 8
    t2i = apply_overrides(get_head("text2image").recipe("tiny"), ["model.attribute_sizes=3", 'model.vocab=["a", "b"]'])
    assert t2i.model.attribute_sizes == (3,) and t2i.model.vocab == ("a", "b")


@pytest.mark.parametrize("head", ["deblur", "superres"])
def test_an_unknown_generator_is_a_one_line_error_before_any_model_is_built(head, monkeypatch):
    from gan_app.apps.cli import _train_command

    def no_real_build(*args, **kwargs):
        raise AssertionError("no model may be built for real")

    monkeypatch.setattr("gan_app.train.loop.Trainer", no_real_build)
    with pytest.raises(UserError, match=r"^model\.generator: unknown .*generator 'nosuch'"):
        _train_command(head=head, data=None, recipe="tiny", config=None, out=None, set_=["model.generator=nosuch"], steps=None,
                       device=None, seed=None, threads=None, name=None, resume=False, overwrite=False, dry_run=True)


def test_the_engine_checks_configs_built_in_python(tmp_path):
    from gan_app.train.loop import fit

    head = get_head("toy")
    run = head.recipe("tiny")
    run.train.gp_weight = float("nan")
    with pytest.raises(UserError, match="train.gp_weight must be a finite number"):
        fit(head, run, tmp_path)
    run = head.recipe("tiny")
    run.model.width = 0
    with pytest.raises(UserError, match="model.width must be >= 1"):
        fit(head, run, tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("data, message", [
    ({"width": "32"}, r"run\.model\.width must be a whole number, got \"32\""),
    ({"width": True}, r"run\.model\.width must be a whole number"),
    ({"width": 4.0}, r"run\.model\.width must be a whole number"),
    ({"z_dim": -2}, r"run\.model\.z_dim must be >= 1"),
    ({"nope": 1}, r"run\.model: unknown ToyModelConfig field"),
])
def test_json_configs_are_typed_and_checked(data, message):
    from gan_app.apps.toy.config import ToyModelConfig

    with pytest.raises(UserError, match=message):
        from_dict(ToyModelConfig, data, "run.model")
    with pytest.raises(UserError, match=r"run\.model must be a JSON object"):
        from_dict(ToyModelConfig, 7, "run.model")
    with pytest.raises(UserError, match=r"train\.betas must be a list of 2"):
        from_dict(TrainConfig, {"betas": [0.5]}, "train")
    with pytest.raises(UserError, match=r"train\.lr_g must be a finite number"):
        from_dict(TrainConfig, json.loads('{"lr_g": NaN}'), "train")


def test_every_recipe_of_every_head_obeys_the_rules_and_round_trips():
    for name, entry in sorted(discover_heads().items()):
        head = entry.load()
        for recipe in head.recipes:
            run = head.recipe(recipe)
            for section in ("model", "data", "train"):
                cfg = getattr(run, section)
                check_section(cfg, f"{name}:{recipe} {section}")
                back = from_dict(type(cfg), json.loads(json.dumps(to_dict(cfg))))
                assert json.loads(json.dumps(to_dict(back))) == json.loads(json.dumps(to_dict(cfg)))


def test_a_field_can_declare_its_own_range():
    """`field(metadata={"range": Range(...)})` replaces the rule by name (paired: 2**depth <= 1024)."""
    run = get_head("paired").recipe("tiny")
    with pytest.raises(UserError, match=r"model\.depth must be in \[1, 10\], got 11"):
        apply_overrides(run, ["model.depth=11"])
    assert apply_overrides(run, ["model.depth=10"]).model.depth == 10
