"""The superres head end to end: tiny recipe -> checkpoint -> ONNX (parity) -> `gan-app upscale`."""

import subprocess
import sys

import numpy as np
import pytest
import torch
import typer
from PIL import Image
from typer.testing import CliRunner

from gan_app.apps.superres import command
from gan_app.apps.superres.head import HEAD
from gan_app.errors import UserError


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """(checkpoint, exported onnx) of the tiny x4 recipe after 2 training steps."""
    from gan_app.export import export_checkpoint
    from gan_app.train.loop import fit

    out = tmp_path_factory.mktemp("sr")
    for i in range(2):
        _photo(out / f"hr{i}.png", 40, 48)
    run = HEAD.recipe("tiny")
    run.data.path = str(out)                 # an HR-only folder: LR made on the fly
    run.train.cpu_threads = 1
    ckpt = fit(HEAD, run, out / "run")
    card = export_checkpoint("superres", ckpt, out / "sr.onnx")
    return ckpt, out / "sr.onnx", card


def _upscale(*args):
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("upscale")(command.upscale_command)
    return CliRunner().invoke(app, ["upscale", *args])


def _photo(path, h=20, w=28, mode="RGB"):
    rng = np.random.default_rng(0)
    img = (np.kron(rng.random((h // 4, w // 4, 3)), np.ones((4, 4, 1))) * 255).astype(np.uint8)
    if mode == "RGBA":
        alpha = np.zeros((h, w, 1), np.uint8)
        alpha[:, : w // 2] = 255                                     # left half opaque, right half transparent
        img = np.concatenate([img, alpha], axis=2)
    Image.fromarray(img, mode).save(path)
    return path


def test_tiny_recipe_exports_x4_with_parity_and_evaluates(trained, tmp_path):
    from gan_app.checkpoint import load_generator
    from gan_app.runtime.session import load_model

    ckpt, onnx_path, card = trained
    assert card["scale"] == 4 and card["export"]["parity"]["max_abs_diff"] < 1e-4
    assert card["training"]["losses"] == ["l1 x1", "relativistic adversarial x0.01 (spectral-norm PatchGAN)"]
    _, run, gen = load_generator(ckpt)
    x = np.random.default_rng(1).random((1, 3, 15, 21)).astype(np.float32)
    with torch.no_grad():
        want = gen.eval()(torch.from_numpy(x)).numpy()
    got = load_model(onnx_path, threads=1).run({"image": x})
    assert got.shape == (1, 3, 60, 84) and np.abs(got - want).max() < 1e-4
    for i in range(2):
        _photo(tmp_path / f"hr{i}.png", 48, 64)
    metrics = HEAD.evaluate(gen, run, str(tmp_path))
    assert len(metrics["images"]) == 2 and "border crop = scale" in metrics["protocol"]
    # 2 steps from an exact-bicubic start: still bicubic up to torch's vs Pillow's cubic coefficient
    assert abs(metrics["psnr_gain"]) < 1.0 and metrics["psnr_y_model"] > metrics["psnr_model"] - 5


def test_upscale_keeps_alpha_and_tiles_seamlessly(trained, tmp_path):
    onnx_path = trained[1]
    src = _photo(tmp_path / "icon.png", mode="RGBA")
    res = _upscale(str(src), "--model", str(onnx_path), "--tile", "0", "-o", str(tmp_path / "whole.png"))
    assert res.exit_code == 0, res.output
    out = Image.open(tmp_path / "whole.png")
    assert out.mode == "RGBA" and out.size == (28 * 4, 20 * 4)
    alpha = np.asarray(out)[..., 3]
    assert alpha[:, :40].min() >= 250 and alpha[:, 72:].max() <= 5     # the alpha plane is upscaled too (Lanczos)
    assert 0 < alpha[:, 56].mean() < 255
    res = _upscale(str(src), "--model", str(onnx_path), "--tile", "16", "-o", str(tmp_path / "tiled.png"))
    assert res.exit_code == 0, res.output
    whole, tiled = (np.asarray(Image.open(tmp_path / n), np.int16) for n in ("whole.png", "tiled.png"))
    assert np.abs(whole - tiled).max() <= 2


def test_upscale_refusals_write_nothing(trained, tmp_path, monkeypatch):
    onnx_path = str(trained[1])
    src = _photo(tmp_path / "a.png")
    out = tmp_path / "out.png"
    cases = [
        (["--scale", "2"], "upscales x4, not x2; pass --scale 4"),
        (["--max-pixels", "1000"], "over --max-pixels 1000"),
        (["--scale", "5"], "--scale must be 2 or 4"),
        (["--scale", "3"], "--scale must be 2 or 4"),
    ]
    for extra, message in cases:
        res = _upscale(str(src), "--model", onnx_path, "-o", str(out), *extra)
        assert isinstance(res.exception, UserError) and message in str(res.exception), res.output
    from gan_app.runtime import batch
    monkeypatch.setattr(batch, "UNTILED_MAX_PIXELS", 100)
    res = _upscale(str(src), "--model", onnx_path, "-o", str(out), "--tile", "0")
    assert isinstance(res.exception, UserError) and "use --tile 256" in str(res.exception)
    monkeypatch.setenv("GAN_APP_WEIGHTS", str(tmp_path / "no_weights"))
    res = _upscale(str(src), "--model", "gan", "-o", str(out))
    assert isinstance(res.exception, UserError) and "no shipped x4 gan model" in str(res.exception)
    assert not out.exists()


def test_bad_file_is_a_one_line_error_without_output(trained, tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    res = subprocess.run([sys.executable, "-m", "gan_app.apps.cli", "upscale", str(bad), "--model", str(trained[1]),
                          "-o", str(tmp_path / "out.png")], capture_output=True, text=True)
    assert res.returncode != 0 and "Traceback" not in res.stderr
    assert res.stderr.strip().startswith("error:") and len(res.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.png").exists()


def test_auto_gives_lossy_files_the_real_world_model(tmp_path):
    """`--model auto` (the default): JPEG/WebP inputs go to the real-world model of the scale, PNG to the PSNR model."""
    import numpy as np
    from PIL import Image

    import gan_app

    pixels = np.random.default_rng(0).integers(0, 255, (16, 20, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    Image.fromarray(pixels).save(tmp_path / "b.jpg", quality=95)
    result = _upscale(str(tmp_path / "a.png"), str(tmp_path / "b.jpg"))
    assert result.exit_code == 0, result.output
    png, jpg = (np.asarray(Image.open(tmp_path / n)) for n in ("a_x4.png", "b_x4.jpg"))
    decoded = np.asarray(Image.open(tmp_path / "b.jpg"))
    np.testing.assert_array_equal(png, gan_app.load("superres-x4-psnr")(pixels))
    real = gan_app.load("superres-x4-real")(decoded).astype(int)
    assert np.abs(jpg.astype(int) - real).mean() < np.abs(jpg.astype(int) - gan_app.load("superres-x4-psnr")(decoded)).mean()
    result = _upscale(str(tmp_path / "a.png"), str(tmp_path / "b.jpg"), "--scale", "2")   # x2 has its real model too
    assert result.exit_code == 0, result.output
    png, jpg = (np.asarray(Image.open(tmp_path / n)) for n in ("a_x2.png", "b_x2.jpg"))
    np.testing.assert_array_equal(png, gan_app.load("superres-x2-psnr")(pixels))
    real = gan_app.load("superres-x2-real")(decoded).astype(int)
    assert np.abs(jpg.astype(int) - real).mean() < np.abs(jpg.astype(int) - gan_app.load("superres-x2-psnr")(decoded)).mean()


def test_auto_plans_mixed_inputs_as_one_run(tmp_path):
    """Lossy and lossless inputs under `--model auto` are still one planned run: `-o NAME.png` with two
    inputs is a folder, as for every other model, and a clash is refused before anything is written."""
    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(1).integers(0, 255, (12, 16, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.png")
    Image.fromarray(pixels).save(tmp_path / "b.jpg")
    result = _upscale(str(tmp_path / "a.png"), str(tmp_path / "b.jpg"), "-o", str(tmp_path / "big.png"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "big.png").iterdir()) == ["a.png", "b.jpg"]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "b.jpg").write_bytes(b"keep")
    clash = _upscale(str(tmp_path / "a.png"), str(tmp_path / "b.jpg"), "-o", str(tmp_path / "out"))
    assert clash.exit_code != 0 and sorted(p.name for p in (tmp_path / "out").iterdir()) == ["b.jpg"]
