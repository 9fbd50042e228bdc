"""No pickle is ever executed (#20): a pickle whose unpickling would create a marker file, named as every
kind of weights file, goes through every path that takes one. Each refuses it in one `error:` line, exits
non-zero, writes nothing, and the marker never appears; for `.pt`/`.pth` names the message says how to
convert the file safely.
"""

from __future__ import annotations

import runpy
import io
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_app.errors import UserError

NAMES = ["model.pt", "model.pth", "model.ckpt", "model.safetensors", "model.onnx", "model.bin"]


# tests/core/console.py by path (tests are not a package): the in-process `gan-app` runner
_console = runpy.run_path(str(Path(__file__).with_name("console.py")))
cli, Outcome = _console["cli"], _console["Outcome"]



class Trap:
    """Unpickling this touches `marker`: the proof that something ran code from the file."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.fixture(params=["pickle", "torch.save"])
def trap_bytes(request, tmp_path) -> tuple[bytes, Path]:
    """(file bytes, marker) of a live trap: a plain pickle, or the zip `torch.save` writes (data.pkl inside)."""
    if request.param == "pickle":
        make, fire = (lambda target: pickle.dumps(Trap(target), protocol=4)), pickle.loads
    else:
        def make(target: Path) -> bytes:
            buffer = io.BytesIO()
            torch.save(Trap(target), buffer)
            return buffer.getvalue()

        def fire(data: bytes) -> None:
            torch.load(io.BytesIO(data), weights_only=False)   # what a careless loader would do
    probe = tmp_path / "MARKER-probe"
    fire(make(probe))
    assert probe.exists()   # the same trap, aimed elsewhere, does fire when unpickled
    probe.unlink()
    return make(tmp_path / "MARKER"), tmp_path / "MARKER"


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """head -> an untrained checkpoint of its `tiny` model (for the paths that need a real generator first)."""
    from gan_app import checkpoint as ckpt
    from gan_app.config import to_dict
    from gan_app.head import get_head

    folder = tmp_path_factory.mktemp("ckpts")
    found = {}
    for name in ("conditional", "text2image"):
        head = get_head(name)
        run = head.recipe("tiny")
        generator, _ = head.build(run.model)
        found[name] = ckpt.save_checkpoint(folder / f"{name}.safetensors", ckpt.module_tensors("G", generator),
                                           {"head": name, "run": to_dict(run), "step": 0})
    return found




def commands(weights: Path, image: Path, out: Path, checkpoints: dict[str, Path]) -> dict[str, list]:
    """Every CLI path that takes a weights file, fed `weights`."""
    return {
        "export": ["export", "deblur", "--checkpoint", weights, "-o", out / "model.onnx"],
        "eval": ["eval", "deblur", "--checkpoint", weights, "-o", out / "metrics.json"],
        "train init_from": ["train", "deblur", "--recipe", "tiny", "--set", f"train.init_from={weights}",
                            "--device", "cpu", "--out", out / "run"],
        "train perceptual": ["train", "deblur", "--recipe", "tiny", "--set", "loss.content_loss=perceptual",
                             "--set", f"loss.vgg_weights={weights}", "--device", "cpu", "--out", out / "run"],
        "deblur": ["deblur", image, "--model", weights, "-o", out / "a.png"],
        "run": ["run", "deblur", image, "--model", weights, "-o", out / "a.png"],
        "upscale": ["upscale", image, "--model", weights, "-o", out / "a.png"],
        "generate": ["generate", "--model", weights, "--class", "1", "-o", out / "grid.png"],
        "text2img": ["text2img", "a red circle", "--model", weights, "-o", out / "grid.png"],
        "eval conditional --classifier": ["eval", "conditional", "--checkpoint", checkpoints["conditional"],
                                          "--classifier", weights, "-o", out / "metrics.json"],
        "eval text2image --classifier": ["eval", "text2image", "--checkpoint", checkpoints["text2image"],
                                         "--classifier", weights, "-o", out / "metrics.json"],
    }


# What a safe conversion looks like, per kind of path: a checkpoint or classifier (safetensors), a model (ONNX).
CONVERT_HINT = {"safetensors": "safetensors.torch.save_file(torch.load(f, weights_only=True)", "onnx": "gan-app export"}
WANTS = {"export": "safetensors", "eval": "safetensors", "train init_from": "safetensors", "deblur": "onnx", "run": "onnx",
         "upscale": "onnx", "generate": "onnx", "text2img": "onnx", "eval conditional --classifier": "safetensors",
         "eval text2image --classifier": "safetensors"}   # train perceptual: a .pth is read weights-only there


@pytest.mark.parametrize("name", NAMES)
def test_a_pickle_under_any_weights_name_is_refused_by_every_path_and_never_run(monkeypatch, capsys, tmp_path,
                                                                                trap_bytes, checkpoints, name):
    data, marker = trap_bytes
    weights = tmp_path / name
    weights.write_bytes(data)
    image = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(image)
    out = tmp_path / "out"
    before = sorted(p.name for p in tmp_path.iterdir())
    for path, args in commands(weights, image, out, checkpoints).items():
        code, stdout, err = cli(monkeypatch, capsys, *args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (path, code, stdout, err)
        assert str(weights) in lines[0], (path, lines[0])
        if weights.suffix in (".pt", ".pth") and path in WANTS:
            assert "are never loaded" in lines[0] and CONVERT_HINT[WANTS[path]] in lines[0], (path, lines[0])
        assert not marker.exists(), f"{path} ran the pickle in {name}"
        assert not out.exists(), (path, sorted(out.rglob("*")))
        assert sorted(p.name for p in tmp_path.iterdir()) == before, path   # no temp file, no run folder


@pytest.mark.parametrize("name", NAMES)
def test_the_python_api_refuses_it_too(tmp_path, trap_bytes, name):
    import gan_app

    data, marker = trap_bytes
    weights = tmp_path / name
    weights.write_bytes(data)
    with pytest.raises(UserError) as info:
        gan_app.load(weights)
    assert "\n" not in str(info.value) and str(weights) in str(info.value)
    if weights.suffix in (".pt", ".pth"):
        assert "are never loaded" in str(info.value) and CONVERT_HINT["onnx"] in str(info.value)
    assert not marker.exists()
