"""Loading exported models: by path or head name, metadata validated, clear one-line errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest

from gan_app.errors import UserError
from gan_app.runtime.metadata import KEY_FORMAT, KEY_GRAPH, set_metadata
from gan_app.runtime.session import load_model


def test_metadata_roundtrip(exported, tiny):
    model = load_model(exported["sr"], threads=1)
    assert model.spec == tiny.TinyHead().graph(tiny.TinyModel("sr"))
    assert model.head == "tiny" and model.meta["model_config"] == {"kind": "sr", "width": 8}
    assert model.meta["precision"] == "fp32" and model.meta["source_sha256"] is None
    assert model.card["file"] == "sr.onnx" and model.card["scale"] == 2
    assert model.providers[-1] == "CPUExecutionProvider"
    assert model.session.get_session_options().intra_op_num_threads == 1
    out = model.run({"image": np.zeros((2, 3, 6, 10), np.float64)})  # cast to the declared float32
    assert out.shape == (2, 3, 12, 20)


def test_non_image_inputs(exported):
    model = load_model(exported["cond"])
    assert model.image_input() is None
    out = model.run({"z": np.zeros((3, 8), np.float32), "label": [0, 2, 1]})
    assert out.shape == (3, 3, 8, 8)
    with pytest.raises(UserError, match=r"takes inputs \['label', 'z'\], got \['z'\]"):
        model.run({"z": np.zeros((1, 8), np.float32)})
    with pytest.raises(UserError, match="same batch size"):
        model.run({"z": np.zeros((2, 8), np.float32), "label": [0]})


def test_load_by_head_name_from_the_weights_folder(exported, tmp_path, monkeypatch):
    (tmp_path / "tiny").mkdir()
    shutil.copy(exported["conv"], tmp_path / "tiny" / "tiny-v1.onnx")
    monkeypatch.setenv("GAN_APP_WEIGHTS", str(tmp_path))
    assert load_model("tiny").path == tmp_path / "tiny" / "tiny-v1.onnx"
    with pytest.raises(UserError, match="head 'other' has no shipped weights.*gan-app export other"):
        load_model("other")


def test_the_newest_shipped_version_is_the_heads_default_and_older_ones_keep_their_names(exported, tmp_path, monkeypatch):
    from gan_app.paths import find_head_model

    folder = tmp_path / "tiny"
    folder.mkdir()
    for stem in ("tiny-v1", "tiny-v2", "tiny-v10", "tiny-v1-camera", "tiny-vx"):
        shutil.copy(exported["conv"], folder / f"{stem}.onnx")
    monkeypatch.setenv("GAN_APP_WEIGHTS", str(tmp_path))
    assert load_model("tiny").path == folder / "tiny-v10.onnx"        # by number, not by name order
    assert load_model("tiny-v1").path == folder / "tiny-v1.onnx"
    assert find_head_model("tiny", "camera") == folder / "tiny-v1-camera.onnx"
    assert find_head_model("tiny", "v2") == folder / "tiny-v2.onnx"


def test_wrong_files_fail_with_one_line(exported, tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        load_model(tmp_path / "missing.onnx")
    (tmp_path / "text.onnx").write_text("hello")
    with pytest.raises(UserError, match="is not a readable ONNX model"):
        load_model(tmp_path / "text.onnx")
    data = exported["conv"].read_bytes()
    (tmp_path / "cut.onnx").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="is not a readable ONNX model") as info:
        load_model(tmp_path / "cut.onnx")
    assert "\n" not in str(info.value)


def _with_metadata(source, dest, **props):
    proto = onnx.load(str(source))
    if props.pop("clear", False):
        del proto.metadata_props[:]
    set_metadata(proto, props)
    onnx.save(proto, str(dest))
    return dest


def test_metadata_is_validated(exported, tmp_path):
    bare = _with_metadata(exported["conv"], tmp_path / "bare.onnx", clear=True)
    with pytest.raises(UserError, match="has no gan_app metadata"):
        load_model(bare)
    broken = _with_metadata(exported["conv"], tmp_path / "broken.onnx", **{KEY_GRAPH: "{not json"})
    with pytest.raises(UserError, match="corrupt gan_app metadata"):
        load_model(broken)
    newer = _with_metadata(exported["conv"], tmp_path / "newer.onnx", **{KEY_FORMAT: "99"})
    with pytest.raises(UserError, match="newer than this gan-app understands"):
        load_model(newer)
    graph = json.loads({p.key: p.value for p in onnx.load(str(exported["conv"])).metadata_props}[KEY_GRAPH])
    graph["inputs"][0]["name"] = "pixels"
    renamed = _with_metadata(exported["conv"], tmp_path / "renamed.onnx", **{KEY_GRAPH: json.dumps(graph)})
    with pytest.raises(UserError, match="do not match its metadata"):
        load_model(renamed)


@pytest.mark.parametrize("threads", [0, -1, 10_000, 99999999999999999999])
def test_thread_counts_are_bounded(exported, threads):
    from gan_app.limits import max_threads
    with pytest.raises(UserError, match=f"--threads must be between 1 and {max_threads()}"):
        load_model(exported["conv"], threads=threads)


def _graph_of(path):
    return json.loads({p.key: p.value for p in onnx.load(str(path)).metadata_props}[KEY_GRAPH])


@pytest.mark.parametrize("kind, dotted, value, message", [
    ("conv", "scale", "2", r"graph\.scale must be a whole number in 1\.\.16, got \"2\""),
    ("conv", "value_range", "0,1", r"graph\.value_range must be \[low, high\]"),
    ("conv", "value_range", [1.0, -1.0], r"graph\.value_range must be \[low, high\]"),
    ("conv", "size_multiple", 2.0, r"graph\.size_multiple must be a whole number in 1\.\.1024, got 2\.0"),
    ("conv", "size_multiple", 6000, r"graph\.size_multiple must be a whole number in 1\.\.1024, got 6000"),
    ("conv", "size_multiple", True, r"graph\.size_multiple must be a whole number"),
    ("conv", "out_channels", 0, r"graph\.out_channels must be a whole number in 1\.\.4"),
    ("conv", "channels", 3, r"graph must have out_channels or channels \(its old name\), not both"),
    ("conv", "inputs.0.shape", ["B", 2, "H", "W"], r"graph\.inputs\[0\]\.shape declares 2 image channels; the runtime feeds 1"),
    ("conv", "inputs.0.shape", ["B", 3, "H"], r"graph\.inputs\[0\]\.shape of an image input must list 4 sizes"),
    ("conv", "inputs.0.dtype", "int64", r"graph\.inputs\[0\]\.dtype of an image input must be one of"),
    ("conv", "inputs.0.kind", "picture", r"graph\.inputs\[0\]\.kind must be one of"),
    ("conv", "extra", [], r"graph\.extra must be a JSON object"),
    ("cond", "extra.class_names", KeyError, r"graph\.extra\.class_names of a conditional model must list"),
    ("cond", "extra.class_names", "cat,dog", r"graph\.extra\.class_names of a conditional model must list"),
    ("cond", "extra.z_dim", "8", r"graph\.extra\.z_dim must be the latent width 8, got \"8\""),
    ("cond", "extra.z_dim", 9, r"graph\.extra\.z_dim must be the latent width 8, got 9"),
    ("cond", "inputs.1.dtype", "float32", r"graph\.inputs\[1\]\.dtype of a label input must be one of"),
])
def test_bad_graph_metadata_names_the_field_and_the_file(exported, tmp_path, kind, dotted, value, message, edited):
    graph = edited(_graph_of(exported[kind]), dotted, value)
    bad = _with_metadata(exported[kind], tmp_path / "bad.onnx", **{KEY_GRAPH: json.dumps(graph)})
    with pytest.raises(UserError, match=message) as info:
        load_model(bad)
    assert str(bad) in str(info.value) and "\n" not in str(info.value)


def test_bounded_graph_metadata_still_loads(exported, tmp_path, edited):
    graph = edited(_graph_of(exported["cond"]), "extra.z_dim", 8)
    ok = _with_metadata(exported["cond"], tmp_path / "ok.onnx", **{KEY_GRAPH: json.dumps(graph)})
    assert load_model(ok).spec.extra["z_dim"] == 8
    graph = edited(_graph_of(exported["conv"]), "size_multiple", 1024)
    ok = _with_metadata(exported["conv"], tmp_path / "ok2.onnx", **{KEY_GRAPH: json.dumps(graph)})
    assert load_model(ok).spec.size_multiple == 1024


def test_a_format_1_file_reads_its_channels_as_out_channels(exported, tmp_path):
    """Format 1 called the output channels `channels`; such files (every shipped one) load unchanged."""
    graph = _graph_of(exported["conv"])
    graph["channels"] = graph.pop("out_channels")
    old = _with_metadata(exported["conv"], tmp_path / "old.onnx", **{KEY_GRAPH: json.dumps(graph), KEY_FORMAT: "1"})
    assert load_model(old).spec == load_model(exported["conv"]).spec


@pytest.mark.parametrize("kind, dotted, value, message", [
    ("conv", "inputs.0.shape", ["B", 1, "H", "W"], r"graph\.inputs\[0\]\.shape does not match the graph's input shape \['B', 3"),
    ("conv", "inputs.0.dtype", "float16", r"graph\.inputs\[0\]\.dtype says float16 but the graph takes tensor\(float\)"),
    ("cond", "inputs.0.shape", ["B", 9], r"graph\.inputs\[0\]\.shape does not match"),
    ("cond", "inputs.1.dtype", "int32", r"graph\.inputs\[1\]\.dtype says int32"),
])
def test_declared_inputs_are_compared_with_the_graph(exported, kind, dotted, value, message, edited):
    """An image input declared with 1 channel for a 3-channel graph (or another dtype) is caught by
    `check_inputs_match` against ONNX Runtime's own view of the graph inputs."""
    import onnxruntime as ort

    from gan_app.head import GraphSpec
    from gan_app.runtime.metadata import check_inputs_match

    session = ort.InferenceSession(str(exported[kind]), providers=["CPUExecutionProvider"])
    graph = _graph_of(exported[kind])
    check_inputs_match(GraphSpec.from_json_dict(graph), session.get_inputs(), "m.onnx")  # as exported: fine
    graph = edited(graph, dotted, value)
    with pytest.raises(UserError, match=message):
        check_inputs_match(GraphSpec.from_json_dict(graph), session.get_inputs(), "m.onnx")
