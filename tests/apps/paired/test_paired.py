"""The paired head: data layouts, pix2pix objective, evaluation, and named user models through the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from gan_app.apps.cli import build_app
from gan_app.apps.paired.config import PairedDataConfig, PairedModelConfig
from gan_app.apps.paired.data import build_dataset, photo_pair
from gan_app.apps.paired.head import HEAD
from gan_app.apps.paired.model import build
from gan_app.data.photos import offline_photos
from gan_app.errors import UserError
from gan_app.discovery import check_model_name, discover_heads
from gan_app.paths import find_model, user_model


def _pattern(h: int, w: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture
def ab_folder(tmp_path) -> Path:
    """A/ + B/ with B = 255 - A, one unmatched file in A."""
    for sub in ("A", "B"):
        (tmp_path / sub).mkdir()
    for k in range(2):
        a = _pattern(40, 48, k)
        Image.fromarray(a).save(tmp_path / "A" / f"p{k}.png")
        Image.fromarray(255 - a).save(tmp_path / "B" / f"p{k}.png")
    Image.fromarray(_pattern(40, 48, 9)).save(tmp_path / "A" / "lonely.png")
    return tmp_path


@pytest.fixture
def side_by_side_folder(tmp_path) -> Path:
    """Images twice as wide as tall: left A, right 255 - A."""
    folder = tmp_path / "sbs"
    folder.mkdir()
    for k in range(4):
        a = _pattern(32, 32, k)
        Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(folder / f"s{k}.png")
    return folder


def _items(dataset, n=6):
    torch.manual_seed(0)
    return [dataset[i % len(dataset)] for i in range(n)]


def test_folder_pairs_are_matched_by_name_and_cropped_and_flipped_together(ab_folder):
    dataset = build_dataset(PairedDataConfig(path=str(ab_folder), crop=16), 3, 3, 8)
    assert len(dataset) == 2  # lonely.png has no B
    for item in _items(dataset):
        assert item["source"].shape == item["target"].shape == (3, 16, 16)
        torch.testing.assert_close(item["target"], 1 - item["source"])  # same crop, same flip


def test_side_by_side_images_split_into_a_and_b(side_by_side_folder):
    dataset = build_dataset(PairedDataConfig(path=str(side_by_side_folder), crop=32, flip=False), 3, 1, 32)
    for item in _items(dataset):
        grey_a = (item["source"] * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0)
        assert item["target"].shape == (1, 32, 32)  # B converted to the model's output channels (luma)
        torch.testing.assert_close(item["target"][0], 1 - grey_a, atol=1e-5, rtol=0)


def test_images_smaller_than_the_crop_are_upscaled(ab_folder):
    dataset = build_dataset(PairedDataConfig(path=str(ab_folder), crop=64), 3, 3, 8)
    assert dataset[0]["source"].shape == (3, 64, 64)


def test_photo_tasks_degrade_a_and_keep_b():
    clean = torch.full((3, 64, 64), 0.5)
    noisy, target = photo_pair("denoise", clean, 0.1, torch.Generator().manual_seed(0))
    assert torch.equal(target, clean) and abs(float((noisy - clean).std()) - 0.1) < 0.005
    colour = torch.rand(3, 8, 8)
    grey, target = photo_pair("colorize", colour, 0.1, torch.Generator())
    luma = (colour * torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)).sum(0)
    assert torch.equal(target, colour) and all(torch.allclose(grey[c], luma) for c in range(3))
    with pytest.raises(UserError, match="photos:colorize"):
        build_dataset(PairedDataConfig(path="photos:inpaint", crop=8), 3, 3, 8)
    with pytest.raises(UserError, match="multiple of 8"):
        build_dataset(PairedDataConfig(path="photos:denoise", crop=12), 3, 3, 8)


def test_generator_maps_unit_range_and_discriminator_judges_the_pair():
    cfg = PairedModelConfig(in_channels=1, out_channels=3, width=4, depth=3, d_width=4, d_layers=2)
    g, d = build(cfg)
    g.eval()
    out = g(torch.rand(2, 1, 16, 24))
    assert out.shape == (2, 3, 16, 24) and 0 <= out.min() and out.max() <= 1
    with pytest.raises(ValueError, match="multiples of 8"):
        g(torch.rand(1, 1, 12, 16))
    objective = HEAD.objective(HEAD.recipe("tiny"))
    b = torch.rand(2, 3, 16, 16)
    logits = [objective.critic(d, {"source": torch.full((2, 1, 16, 16), v)})(b).logits for v in (0.0, 1.0)]
    assert d.in_channels == 4 and not torch.allclose(*logits)  # same B, other A: another verdict


def test_evaluation_of_an_identity_model_scores_the_input(monkeypatch):
    from gan_app.apps.paired import data, evaluate

    monkeypatch.setattr(evaluate, "held_out_pairs", lambda task, noise: data.held_out_pairs(task, noise, max_side=96))
    run = HEAD.recipe("tiny")
    result = HEAD.evaluate(torch.nn.Identity(), run, None)
    assert result["psnr_model"] == pytest.approx(result["psnr_input"])
    assert 19.5 < result["psnr_input"] < 21.5  # sigma 0.1 noise: 20 dB, a little more where clipping trims it
    assert len(result["images"]) == len(offline_photos("held_out")) and "held-out" in result["protocol"]


def test_model_names_may_not_shadow_heads():
    check_model_name("colorize", "paired")
    for taken in ("deblur", "generate", "toy"):
        with pytest.raises(UserError, match="taken"):
            check_model_name(taken, "paired")
    with pytest.raises(UserError, match="lowercase"):
        check_model_name("My Model", "paired")


def test_user_model_comes_before_shipped_weights(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_APP_WEIGHTS", str(tmp_path / "weights"))
    monkeypatch.setenv("GAN_APP_HOME", str(tmp_path / "home"))
    shipped = tmp_path / "weights" / "x" / "x-v1.onnx"
    shipped.parent.mkdir(parents=True)
    shipped.write_bytes(b"")
    assert find_model("x") == shipped and find_model("y") is None
    user_model("x").parent.mkdir(parents=True)
    user_model("x").write_bytes(b"")
    assert find_model("x") == tmp_path / "home" / "models" / "x.onnx"


def test_named_paired_model_trains_exports_lists_and_runs_like_a_head(side_by_side_folder, tmp_path):
    app, runner = build_app(), CliRunner()

    def cli(*args):
        result = runner.invoke(build_app(), list(args))
        assert result.exit_code == 0, result.output + repr(result.exception)
        return result.output

    cli("train", "paired", "--recipe", "tiny", "--data", str(side_by_side_folder), "--name", "invert",
        "--out", str(tmp_path / "run"), "--device", "cpu")
    checkpoint = tmp_path / "run" / "checkpoints" / "step_000002.safetensors"
    output = cli("export", "paired", "--checkpoint", str(checkpoint))  # no -o: install as a user model
    installed = Path(os.environ["GAN_APP_HOME"]) / "models" / "invert.onnx"
    assert "gan-app run invert" in output and installed.is_file()
    card = json.loads(installed.with_suffix(".json").read_text())
    assert card["head"] == "invert" and card["base_head"] == "paired" and card["training"]["name"] == "invert"
    assert discover_heads()["invert"].load().base == "paired"
    row = next(line for line in cli("heads").splitlines() if line.startswith("invert "))
    assert "gan-app run invert" in row and "user model" in row
    photo = tmp_path / "photo.png"
    Image.fromarray(_pattern(20, 28, 5)).save(photo)
    cli("run", "invert", str(photo), "-o", str(tmp_path / "out.png"))
    assert Image.open(tmp_path / "out.png").size == (28, 20)
    assert "psnr" in cli("eval", "invert", "--checkpoint", str(checkpoint), "--data", str(side_by_side_folder)).lower()
    result = runner.invoke(app, ["eval", "colorize", "--checkpoint", str(checkpoint)])
    assert isinstance(result.exception, UserError) and "'invert' checkpoint of head 'paired'" in str(result.exception)
    result = runner.invoke(app, ["train", "deblur", "--recipe", "tiny", "--name", "mine", "--dry-run"])
    assert isinstance(result.exception, UserError) and "does not name its models" in str(result.exception)


def test_a_grey_in_colour_out_model_writes_colour_for_grey_files(tmp_path):
    """A colorizer (in_channels 1, out 3) must not have its colour dropped because the input file is grey."""
    from gan_app.export import export_generator
    from gan_app.runtime.batch import process_images
    from gan_app.runtime.session import load_model

    run = HEAD.recipe("tiny")
    run.model.in_channels = 1
    generator, _ = build(run.model)
    model_path = tmp_path / "colour.onnx"
    export_generator(HEAD, run, generator.eval(), model_path, parity_sizes=((16, 16),))
    grey = tmp_path / "grey.png"
    Image.fromarray(_pattern(16, 24, 1)[..., 0]).save(grey)
    model = load_model(model_path, threads=1)
    (written,) = process_images(model, [str(grey)], tmp_path / "out.png")
    out = Image.open(written)
    assert out.mode == "RGB" and out.size == (24, 16)
    with torch.no_grad():
        want = generator(torch.from_numpy(np.asarray(Image.open(grey), np.float32) / 255)[None, None])[0]
    got = torch.from_numpy(np.asarray(out, np.float32) / 255).permute(2, 0, 1)
    assert float((got - want).abs().max()) <= 0.5 / 255 + 1e-4
