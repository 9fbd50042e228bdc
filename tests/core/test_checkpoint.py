"""Checkpoint files: round trip, atomic writes, clear errors, state flattening, rebuild from metadata."""

from __future__ import annotations

import errno
import json
import os

import pytest
import torch
from safetensors.torch import save_file

from gan_app import checkpoint as ckpt
from gan_app.errors import UserError


def test_round_trip_keeps_tensors_exactly_and_stamps_meta(tmp_path):
    tensors = {
        "a": torch.randn(3, 4),
        "b.int": torch.arange(5),
        "c.bf16": torch.randn(2, dtype=torch.bfloat16),
        "scalar": torch.tensor(7.5),
        "view": torch.randn(4, 4)[:, 1],  # non-contiguous: must be stored as a copy
    }
    path = ckpt.save_checkpoint(tmp_path / "x.safetensors", tensors, {"head": "toy", "step": 3, "nested": {"k": [1, 2]}})
    loaded, meta = ckpt.read_checkpoint(path)
    assert set(loaded) == set(tensors)
    for name, t in tensors.items():
        assert loaded[name].dtype == t.dtype and torch.equal(loaded[name], t)
    assert meta["step"] == 3 and meta["nested"] == {"k": [1, 2]}
    assert meta["format_version"] == ckpt.FORMAT_VERSION
    assert meta["versions"]["torch"] == torch.__version__
    assert ckpt.read_meta(path) == meta
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.safetensors"]  # no temp file left


def test_failed_write_leaves_previous_file_intact(tmp_path, monkeypatch):
    path = ckpt.save_checkpoint(tmp_path / "x.safetensors", {"w": torch.ones(2)}, {"step": 1})

    def half_written(tensors, filename, metadata=None):
        with open(filename, "wb") as fh:
            fh.write(b"\x00" * 10)
        raise OSError("disk full")

    monkeypatch.setattr("safetensors.torch.save_file", half_written)
    with pytest.raises(OSError):
        ckpt.save_checkpoint(path, {"w": torch.zeros(2)}, {"step": 2})
    tensors, meta = ckpt.read_checkpoint(path)
    assert meta["step"] == 1 and torch.equal(tensors["w"], torch.ones(2))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.safetensors"]


@pytest.mark.parametrize("code, advice", [(errno.ENOSPC, "free some space"), (errno.EROFS, "on a writable disk")])
def test_a_full_disk_or_read_only_folder_is_a_one_line_error(tmp_path, monkeypatch, code, advice):
    def refused(tensors, filename, metadata=None):
        raise OSError(code, os.strerror(code), filename)

    monkeypatch.setattr("safetensors.torch.save_file", refused)
    with pytest.raises(UserError, match=f"cannot write .*step_1.safetensors: {os.strerror(code)}; .*{advice}"):
        ckpt.save_checkpoint(tmp_path / "run" / "step_1.safetensors", {"w": torch.ones(2)}, {"step": 1})
    assert list((tmp_path / "run").iterdir()) == []   # no temp file


def test_unreadable_files_give_user_errors(tmp_path):
    with pytest.raises(UserError, match="not found"):
        ckpt.read_checkpoint(tmp_path / "missing.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"this is not a safetensors file at all")
    with pytest.raises(UserError, match="not a readable safetensors"):
        ckpt.read_checkpoint(garbage)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.ones(1)}, str(foreign), metadata={"other": "x"})
    with pytest.raises(UserError, match="not a gan_app checkpoint"):
        ckpt.read_checkpoint(foreign)
    future = tmp_path / "future.safetensors"
    save_file({"w": torch.ones(1)}, str(future), metadata={ckpt.META_KEY: json.dumps({"format_version": 99})})
    with pytest.raises(UserError, match="newer gan_app"):
        ckpt.read_checkpoint(future)
    truncated = tmp_path / "truncated.safetensors"
    good = ckpt.save_checkpoint(tmp_path / "good.safetensors", {"w": torch.randn(100)}, {"step": 1})
    truncated.write_bytes(good.read_bytes()[:-50])
    with pytest.raises(UserError):
        ckpt.read_checkpoint(truncated)


def _trained_adam(seed: int = 0) -> tuple[torch.nn.Module, torch.optim.Adam]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2, betas=(0.5, 0.9))
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(8, 3)).pow(2).mean().backward()
        opt.step()
    return model, opt


def _continue(model, opt, steps=3):
    g = torch.Generator().manual_seed(5)
    for _ in range(steps):
        opt.zero_grad()
        model(torch.randn(8, 3, generator=g)).pow(2).mean().backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def test_optimizer_state_survives_flattening_through_a_file(tmp_path):
    model, opt = _trained_adam()
    tensors, skeleton = ckpt.flatten_state("opt_g", opt.state_dict())
    assert all(name.startswith("opt_g.") for name in tensors)
    path = ckpt.save_checkpoint(tmp_path / "o.safetensors", {**ckpt.module_tensors("G", model), **tensors}, {"opt": skeleton})
    loaded, meta = ckpt.read_checkpoint(path)

    twin, twin_opt = _trained_adam(seed=1)  # different weights and moments until loaded
    ckpt.load_module("G", twin, loaded)
    twin_opt.load_state_dict(ckpt.unflatten_state(meta["opt"], loaded))
    restored = twin_opt.state_dict()
    assert restored["param_groups"][0]["betas"] == (0.5, 0.9)  # tuples come back as tuples
    assert set(restored["state"]) == set(opt.state_dict()["state"])  # int keys come back as ints
    assert all(torch.equal(a, b) for a, b in zip(_continue(model, opt), _continue(twin, twin_opt)))


def test_flatten_rejects_unstorable_values():
    with pytest.raises(TypeError, match="at s.x"):
        ckpt.flatten_state("s", {"x": object()})


def test_checkpoints_are_ordered_by_step_and_rotated(tmp_path):
    for step in (5, 999_999, 1_000_000, 20):
        ckpt.save_checkpoint(ckpt.checkpoint_path(tmp_path, step), {"w": torch.ones(1)}, {"step": step})
    (tmp_path / "checkpoints" / "notes.safetensors").write_bytes(b"")  # not a step file: ignored
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == [
        "step_000005.safetensors", "step_000020.safetensors", "step_999999.safetensors", "step_1000000.safetensors"]
    assert ckpt.latest_checkpoint(tmp_path).name == "step_1000000.safetensors"
    removed = ckpt.prune_checkpoints(tmp_path, keep_last=2)
    assert [p.name for p in removed] == ["step_000005.safetensors", "step_000020.safetensors"]
    assert [ckpt.read_meta(p)["step"] for p in ckpt.list_checkpoints(tmp_path)] == [999_999, 1_000_000]
    assert ckpt.prune_checkpoints(tmp_path, keep_last=0) == []
    assert ckpt.latest_checkpoint(tmp_path / "empty") is None


def test_load_generator_rebuilds_the_model_from_metadata_alone(tmp_path, monkeypatch):
    from gan_app.apps.toy.head import HEAD
    from gan_app.config import to_dict

    run = HEAD.recipe("tiny")
    run.model.width = 24  # not the dataclass default: must come from the file
    g, _ = HEAD.build(run.model)
    ema, _ = HEAD.build(run.model)
    tensors = {**ckpt.module_tensors("G", g), **ckpt.module_tensors("G_ema", ema)}
    path = ckpt.save_checkpoint(tmp_path / "c.safetensors", tensors, {"head": "toy", "run": to_dict(run), "step": 0})

    def no_pickles(*args, **kwargs):
        raise AssertionError("torch.load must never be used")

    monkeypatch.setattr(torch, "load", no_pickles)
    z = torch.randn(5, run.model.z_dim)
    head, loaded_run, gen = ckpt.load_generator(path)
    assert head.name == "toy" and loaded_run.model.width == 24 and not gen.training
    assert torch.equal(gen(z), ema(z))
    _, _, raw = ckpt.load_generator(path, use_ema=False)
    assert torch.equal(raw(z), g(z))

    bad = ckpt.save_checkpoint(tmp_path / "bad.safetensors", ckpt.module_tensors("G", torch.nn.Linear(2, 2)),
                               {"head": "toy", "run": to_dict(run), "step": 0})
    with pytest.raises(UserError, match="do not fit"):
        ckpt.load_generator(bad)


def _toy_checkpoint(tmp_path):
    """(path, tensors, meta) of a small toy generator checkpoint, for crafting bad headers."""
    from gan_app.apps.toy.head import HEAD
    from gan_app.config import to_dict

    run = HEAD.recipe("tiny")
    g, _ = HEAD.build(run.model)
    path = ckpt.save_checkpoint(tmp_path / "good.safetensors", ckpt.module_tensors("G", g),
                                {"head": "toy", "run": to_dict(run), "step": 2, "data": {"epoch": 0, "position": 2}})
    tensors, meta = ckpt.read_checkpoint(path)
    return path, tensors, meta


def _rewrite(tmp_path, name, tensors, header_value):
    path = tmp_path / f"{name}.safetensors"
    save_file(tensors, str(path), metadata={ckpt.META_KEY: header_value})
    return path


@pytest.mark.parametrize("dotted, value, message", [
    ("format_version", "1", r"header field 'format_version' must be a whole number, got a string"),
    ("format_version", True, r"header field 'format_version' must be a whole number"),
    ("head", 3, r"header field 'head' must be a string"),
    ("run", [1], r"header field 'run' must be an object, got a list"),
    ("run.model", 5, r"header field run\.'model' must be an object, got a whole number"),
    ("step", "2", r"header field 'step' must be a whole number"),
    ("step", -1, r"header field 'step' must be >= 0"),
    ("run.model.width", "32", r"run\.model\.width must be a whole number, got \"32\""),
    ("run.model.z_dim", 0, r"run\.model\.z_dim must be >= 1"),
    ("run.train.lr_g", float("nan"), r"run\.train\.lr_g must be a finite number"),
    ("run.train.betas", [0.5], r"run\.train\.betas must be a list of 2"),
    ("run.data", KeyError, r"run config lacks data"),
])
def test_bad_header_fields_are_one_line_errors_naming_the_field(tmp_path, dotted, value, message, edited):
    _, tensors, meta = _toy_checkpoint(tmp_path)
    path = _rewrite(tmp_path, "bad", tensors, json.dumps(edited(meta, dotted, value)))
    with pytest.raises(UserError, match=message) as info:
        ckpt.load_generator(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("header", ['[1, 2]', '7', '"text"', 'null'])
def test_a_header_that_is_not_a_json_object_is_a_user_error(tmp_path, header):
    _, tensors, _ = _toy_checkpoint(tmp_path)
    with pytest.raises(UserError, match="'gan_app' header entry must be a JSON object"):
        ckpt.read_meta(_rewrite(tmp_path, "bad", tensors, header))


def test_an_unknown_generator_in_the_header_is_refused_naming_the_field(tmp_path, edited):
    from gan_app.apps.superres.head import HEAD
    from gan_app.config import to_dict

    run = HEAD.recipe("tiny")
    g, _ = HEAD.build(run.model)
    good = ckpt.save_checkpoint(tmp_path / "sr.safetensors", ckpt.module_tensors("G", g),
                                {"head": "superres", "run": to_dict(run), "step": 0})
    tensors, meta = ckpt.read_checkpoint(good)
    path = _rewrite(tmp_path, "nosuch", tensors, json.dumps(edited(meta, "run.model.generator", "nosuch")))
    with pytest.raises(UserError, match=r"run\.model\.generator: unknown super-resolution generator 'nosuch'"):
        ckpt.load_generator(path)


def test_a_header_declaring_a_huge_model_is_refused_before_it_is_built(tmp_path, monkeypatch, edited):
    """Item 3: the declared config is compared with the stored shapes on the meta device."""
    from gan_app.apps.toy.head import ToyHead

    _, tensors, meta = _toy_checkpoint(tmp_path)
    path = _rewrite(tmp_path, "huge", tensors, json.dumps(edited(meta, "run.model.width", 4_000_000)))
    real_build = ToyHead.build

    def guarded(self, cfg):
        if cfg.width > 1000 and str(torch.get_default_device()) != "meta":
            raise AssertionError(f"a width-{cfg.width} model was built for real")
        return real_build(self, cfg)

    monkeypatch.setattr(ToyHead, "build", guarded)
    with pytest.raises(UserError, match=r"weights 'G' do not fit the run\.model its header declares \(G\.\S+ is \[\d+(, \d+)*\] "
                                        r"in the file but \[[\d, ]*4000000[\d, ]*\] for the declared config"):
        ckpt.load_generator(path)
    cut = {k: v for k, v in tensors.items() if k != sorted(tensors)[-1]}
    with pytest.raises(UserError, match="is missing"):
        ckpt.load_generator(_rewrite(tmp_path, "cut", cut, json.dumps(meta)))
