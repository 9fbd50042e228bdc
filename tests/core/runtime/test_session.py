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
