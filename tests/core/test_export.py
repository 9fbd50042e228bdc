"""ONNX export: parity is checked every time, a failing export writes nothing, files describe themselves."""

from __future__ import annotations

import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import typer
from typer.testing import CliRunner

from gan_app.apps.commands import register_export
from gan_app.errors import UserError
from gan_app.export import export_generator, training_ops
from gan_app.head import GraphSpec
from gan_app.runtime.files import sha256_file
from gan_app.runtime.metadata import KEY_GRAPH, KEY_HEAD, KEY_MODEL_CONFIG, KEY_PRECISION, KEY_SOURCE_SHA256


def _load_tiny():
    """tests/core/runtime/tiny_models.py, imported by path (tests are not a package)."""
    name = "gan_app_test_tiny_models"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "runtime" / "tiny_models.py")
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


tiny = _load_tiny()


def _cpu(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def conv_export(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "conv.onnx"
    torch.manual_seed(0)
    head, run = tiny.TinyHead(), tiny.tiny_run("conv")
    generator, _ = head.build(run.model)
    generator.train()  # export must switch to eval itself (BN running stats, no dropout)
    card = export_generator(head, run, generator, out, metrics={"psnr": 30.5, "protocol": "val split, 8 images"}, step=7)
    return out, card, generator.eval()


def test_card_and_metadata_describe_the_file(conv_export):
    out, card, _ = conv_export
    assert json.loads(out.with_suffix(".json").read_text()) == card
    assert card["sha256"] == sha256_file(out)
    assert card["head"] == "tiny" and card["scale"] == 1 and card["size_multiple"] == 2
    assert card["value_range"] == [-1.0, 1.0]
    assert card["output"]["shape"] == ["B", 3, "H*1", "W*1"]
    assert card["training"] == {"steps": 7, "data": "synthetic", "losses": ["l1", "nonsaturating"]}
    assert card["metrics"]["protocol"] == "val split, 8 images"
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert props[KEY_HEAD] == "tiny" and props[KEY_PRECISION] == "fp32" and props[KEY_SOURCE_SHA256] == ""
    assert GraphSpec.from_json_dict(json.loads(props[KEY_GRAPH])) == tiny.TinyHead().graph(tiny.TinyModel("conv"))
    assert json.loads(props[KEY_MODEL_CONFIG]) == {"kind": "conv", "width": 8}


def test_parity_covers_random_and_photos_at_two_sizes(conv_export):
    _, card, _ = conv_export
    parity = card["export"]["parity"]
    labels = [c["case"] for c in parity["cases"]]
    assert labels == ["random 64x64", "photo 64x64", "random 96x80", "photo 96x80"]
    assert [c["shape"] for c in parity["cases"]][2] == [2, 3, 96, 80]
    assert 0 < parity["max_abs_diff"] <= 1e-4
    assert parity["min_psnr_db"] > 80


def test_graph_is_eval_mode_with_dynamic_batch_and_size(conv_export):
    out, _, generator = conv_export
    proto = onnx.load(str(out))
    ops = {node.op_type for node in proto.graph.node}
    assert "Dropout" not in ops and training_ops(proto) == []
    assert "BatchNormalization" not in ops  # folded into the convolution before it
    x = torch.rand(3, 3, 30, 22) * 2 - 1  # batch and size unlike anything exported or checked
    with torch.no_grad():
        expected = generator(x).numpy()
    got = _cpu(out).run(None, {"image": x.numpy()})[0]
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_training_ops_are_detected():
    bn = onnx.helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y", "rm", "rv"], training_mode=1)
    drop = onnx.helper.make_node("Dropout", ["y"], ["z"])
    graph = onnx.helper.make_graph([bn, drop], "g", [], [])
    assert [name.split(":")[0] for name in training_ops(onnx.helper.make_model(graph))] == ["BatchNormalization", "Dropout"]


class ShapeBakedNet(torch.nn.Module):
    """A real export bug: a Python float taken from the input shape is frozen into the traced graph."""

    def forward(self, image):
        return image * (32.0 / float(image.shape[-1]))


@pytest.mark.filterwarnings("ignore::torch.jit.TracerWarning")
def test_failed_parity_raises_and_writes_nothing(tmp_path):
    head, run = tiny.TinyHead(), tiny.tiny_run("conv")
    with pytest.raises(UserError, match="parity failed.*was not written"):
        export_generator(head, run, ShapeBakedNet(), tmp_path / "bad.onnx")
    assert list(tmp_path.iterdir()) == []


def test_latent_label_head_exports_with_dynamic_batch(tmp_path):
    out = tmp_path / "cond.onnx"
    card = tiny.export_tiny(out, "cond")
    assert card["conditioning"] == {"class_names": ["cat", "dog", "owl"]}
    assert card["output"]["shape"] == ["B", 3, 8, 8]
    assert [c["case"] for c in card["export"]["parity"]["cases"]] == ["random 64x64", "random 96x80"]
    feeds = {"z": np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32), "label": np.array([0, 1, 2, 1, 0])}
    assert _cpu(out).run(None, feeds)[0].shape == (5, 3, 8, 8)


def test_variants_report_parity_and_speed_and_keep_fp32_default(tmp_path):
    out = tmp_path / "conv.onnx"
    card = tiny.export_tiny(out, "conv", variants=("fp16", "int8"))
    assert [v["precision"] for v in card["variants"]] == ["fp16", "int8"]
    for variant in card["variants"]:
        path = tmp_path / variant["file"]
        assert variant["sha256"] == sha256_file(path)
        props = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
        assert props[KEY_PRECISION] == variant["precision"] and props[KEY_HEAD] == "tiny"
        parity = variant["parity"]
        assert parity["meets_tolerance"] == (parity["max_abs_diff"] <= 1e-4)
        assert variant["speed"]["fp32_ms"] > 0 and variant["speed"]["variant_ms"] > 0
        x = np.random.default_rng(1).uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)
        reduced, full = _cpu(path).run(None, {"image": x})[0], _cpu(out).run(None, {"image": x})[0]
        assert 0 < np.abs(reduced - full).max() < 0.1  # really reduced precision, still the same model
    int8 = card["variants"][1]["parity"]
    assert not int8["meets_tolerance"]  # int8 cannot meet the fp32 bar: reported, never the default
    assert card["file"] == "conv.onnx" and card["export"]["parity"]["max_abs_diff"] <= 1e-4


def _fake_checkpoint_module(tmp_path: Path) -> tuple[types.ModuleType, Path]:
    """Stand-in for gan_app.checkpoint (owned elsewhere): a real tiny generator and metadata."""
    ckpt = tmp_path / "step_5.safetensors"
    ckpt.write_bytes(b"stand-in checkpoint bytes")
    module = types.ModuleType("gan_app.checkpoint")

    def load_generator(path, use_ema=True):
        assert Path(path) == ckpt and use_ema
        torch.manual_seed(0)
        head, run = tiny.TinyHead(), tiny.tiny_run("conv")
        return head, run, head.build(run.model)[0].eval()

    module.load_generator = load_generator
    module.read_checkpoint = lambda path: ({}, {"run": {}, "step": 5, "metrics": {"psnr": 21.0, "protocol": "p"}})
    return module, ckpt


def _export_app() -> typer.Typer:
    """The `export` verb on its own app, so these tests do not depend on which heads are installed."""
    app = typer.Typer()
    app.callback()(lambda: None)
    register_export(app)
    return app


def test_cli_export_from_checkpoint(tmp_path, monkeypatch):
    module, ckpt = _fake_checkpoint_module(tmp_path)
    monkeypatch.setitem(sys.modules, "gan_app.checkpoint", module)
    out = tmp_path / "model.onnx"
    result = CliRunner().invoke(_export_app(), ["export", "tiny", "--checkpoint", str(ckpt), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "parity vs PyTorch: max abs diff" in result.output
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["source_checkpoint"] == {"file": ckpt.name, "sha256": sha256_file(ckpt)}
    assert card["training"]["steps"] == 5 and card["metrics"] == {"psnr": 21.0, "protocol": "p"}
    props = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert props[KEY_SOURCE_SHA256] == sha256_file(ckpt)


def test_cli_export_refuses_another_heads_checkpoint(tmp_path, monkeypatch):
    module, ckpt = _fake_checkpoint_module(tmp_path)
    monkeypatch.setitem(sys.modules, "gan_app.checkpoint", module)
    out = tmp_path / "model.onnx"
    result = CliRunner().invoke(_export_app(), ["export", "deblur", "--checkpoint", str(ckpt), "-o", str(out)])
    assert isinstance(result.exception, UserError)
    assert "is a 'tiny' checkpoint, not 'deblur'" in str(result.exception)
    assert not out.exists()


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_weights_fail_parity_and_write_nothing(tmp_path, bad):
    head, run = tiny.TinyHead(), tiny.tiny_run("conv")
    generator, _ = head.build(run.model)
    with torch.no_grad():
        generator.mid.weight[0, 0, 0, 0] = bad      # one broken weight: NaN would compare false against any bound
    out = tmp_path / "g.onnx"
    with pytest.raises(UserError, match="NaN or infinite .*export refused"):
        export_generator(head, run, generator, out)
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_a_full_disk_is_one_line_and_the_export_leaves_nothing(tmp_path, monkeypatch):
    import errno
    import os

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    head, run = tiny.TinyHead(), tiny.tiny_run("conv")
    generator, _ = head.build(run.model)
    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(UserError, match=r"cannot write .*new/g\.(onnx|json): No space left on device; free some space"):
        export_generator(head, run, generator, tmp_path / "new" / "g.onnx")
    assert list(tmp_path.iterdir()) == []   # no temp files, no folder


def test_cli_export_to_an_existing_folder_is_refused_even_with_overwrite(tmp_path, monkeypatch):
    module, ckpt = _fake_checkpoint_module(tmp_path)
    monkeypatch.setitem(sys.modules, "gan_app.checkpoint", module)
    (tmp_path / "model.onnx").mkdir()
    result = CliRunner().invoke(_export_app(), ["export", "tiny", "--checkpoint", str(ckpt), "-o",
                                                str(tmp_path / "model.onnx"), "--overwrite"])
    assert isinstance(result.exception, UserError)
    assert "model.onnx is an existing folder, which the export cannot replace" in str(result.exception)
