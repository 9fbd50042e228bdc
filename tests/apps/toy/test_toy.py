"""The toy head: metric definitions, the default recipe's quality (and a broken G failing it), the CLI."""

from __future__ import annotations

import math

import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from gan_app.apps.cli import build_app
from gan_app.apps.toy.config import ToyDataConfig
from gan_app.apps.toy.data import ToyPoints, ring_centers, sample_points
from gan_app.apps.toy.head import HEAD
from gan_app.apps.toy.metrics import toy_metrics
from gan_app.checkpoint import load_generator, read_checkpoint
from gan_app.errors import UserError
from gan_app.train.loop import fit


def _points(cfg: ToyDataConfig, n: int = 8000) -> torch.Tensor:
    return sample_points(cfg, n, torch.Generator().manual_seed(0))


def test_real_ring_samples_score_as_the_definition_says():
    cfg = ToyDataConfig()
    centers = ring_centers(cfg)
    assert centers.shape == (8, 2)
    torch.testing.assert_close(centers.norm(dim=1), torch.full((8,), 2.0))
    m = toy_metrics(_points(cfg), cfg)
    assert m["modes_covered"] == 8
    assert m["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.005)  # P(|N(0, s^2 I_2)| <= 3s)


def test_collapse_and_spread_are_caught():
    cfg = ToyDataConfig()
    one_mode = ring_centers(cfg)[3] + 0.01 * torch.randn(1000, 2, generator=torch.Generator().manual_seed(1))
    m = toy_metrics(one_mode, cfg)
    assert m["modes_covered"] == 1 and m["high_quality"] == 1.0 and m["per_mode"][3] == 1000
    angles = torch.rand(4000, generator=torch.Generator().manual_seed(2)) * 2 * math.pi
    circle = 2.0 * torch.stack([angles.cos(), angles.sin()], 1)  # right radius, mostly between modes
    m = toy_metrics(circle, cfg)
    assert m["high_quality"] < 0.2  # arc within 0.06 of a centre: 8 * 2 * 0.06 / (2 pi 2) ~ 7.6%
    c = ring_centers(cfg)
    threshold = torch.cat([c[0].expand(985, 2), c[1].expand(10, 2), c[2].expand(5, 2)])  # 98.5%, 1%, 0.5%
    m = toy_metrics(threshold, cfg)
    assert m["per_mode"][:3] == [985, 10, 5] and m["modes_covered"] == 2  # covered from 1% of all samples


def test_sine_modes_are_x_intervals_on_the_curve():
    cfg = ToyDataConfig(kind="sine")
    pts = _points(cfg)
    assert pts[:, 0].abs().max() <= cfg.x_range
    m = toy_metrics(pts, cfg)
    assert m["modes_covered"] == 8 and m["high_quality"] > 0.99
    half = pts[pts[:, 0] < 0]  # only the left half of the curve
    assert toy_metrics(half, cfg)["modes_covered"] == 4
    off = pts + torch.tensor([0.0, 0.5])
    assert toy_metrics(off, cfg)["high_quality"] == 0.0


def test_dataset_fast_path_matches_items():
    ds = ToyPoints(ToyDataConfig(size=64), z_dim=3, seed=0)
    batch = ds.__getitems__([5, 1, 7])
    assert batch["point"].shape == (3, 2) and batch["z"].shape == (3, 3)
    assert torch.equal(batch["z"][1], ds[1]["z"]) and torch.equal(batch["point"][2], ds[7]["point"])


def _train_default(tmp_path, **train):
    run = HEAD.recipe("default")
    run.train.sample_every = run.train.eval_every = 0
    for key, value in train.items():
        setattr(run.train, key, value)
    checkpoint = fit(HEAD, run, tmp_path)
    _, run, generator = load_generator(checkpoint)
    return HEAD.evaluate(generator, run, None), checkpoint


@pytest.mark.slow
def test_default_recipe_covers_the_ring(tmp_path):
    metrics, _ = _train_default(tmp_path)
    assert metrics["modes_covered"] >= 7, metrics
    assert metrics["high_quality"] >= 0.70, metrics


def test_a_generator_that_is_not_updated_fails_the_same_bar(tmp_path):
    """lr_g = 0: G never moves (checked below), so 100 steps stand for any number of steps."""
    metrics, checkpoint = _train_default(tmp_path, lr_g=0.0, steps=100)
    tensors = read_checkpoint(checkpoint)[0]
    torch.manual_seed(HEAD.recipe("default").train.seed)  # the engine's initial weights
    g0, _ = HEAD.build(HEAD.recipe("default").model)
    assert all(torch.equal(tensors[f"G.{k}"], v) for k, v in g0.state_dict().items())
    assert metrics["modes_covered"] < 7 or metrics["high_quality"] < 0.70


def test_toy_command_writes_the_plot_and_reports(tmp_path):
    png = tmp_path / "ring.png"
    result = CliRunner().invoke(build_app(), ["toy", "ring", "--loss", "minimax", "--steps", "30", "-o", str(png),
                                              "--set", "train.eval_every=15",
                                              "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "ring, minimax, 30 steps" in result.output and "modes covered" in result.output
    assert "step     15: modes" in result.output and "step     30: modes" in result.output  # the trajectory
    with Image.open(png) as im:
        assert im.format == "PNG"
    meta = read_checkpoint(tmp_path / "run" / "checkpoints" / "step_000030.safetensors")[1]
    assert meta["run"]["train"]["loss"] == "minimax" and meta["run"]["train"]["r1_weight"] == 0.0
    assert meta["run"]["data"]["kind"] == "ring"


def test_train_verb_trains_the_toy(tmp_path):
    result = CliRunner().invoke(build_app(), ["train", "toy", "--recipe", "tiny", "--set", "data.kind=sine",
                                              "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "checkpoints" / "step_000020.safetensors").is_file()
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == ["step_000010.png", "step_000020.png"]


def test_classic_recipe_is_the_plain_metz_setup(tmp_path):
    result = CliRunner().invoke(build_app(), ["toy", "ring", "--recipe", "classic", "--steps", "4", "-o",
                                              str(tmp_path / "c.png"), "--run-dir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    meta = read_checkpoint(tmp_path / "run" / "checkpoints" / "step_000004.safetensors")[1]
    train, model = meta["run"]["train"], meta["run"]["model"]
    assert train["loss"] == "nonsaturating" and train["r1_weight"] == 0.0 and train["ema_decay"] == 0.0
    assert tuple(train["betas"]) == (0.5, 0.999) and train["lr_g"] == 1e-4 and model["z_dim"] == 256


def test_unknown_toy_recipe_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(build_app(), ["toy", "ring", "--recipe", "metz", "-o", str(tmp_path / "c.png")])
    assert isinstance(result.exception, UserError) and "use default or classic" in str(result.exception)
    assert not (tmp_path / "c.png").exists()


def test_an_existing_plot_is_kept_unless_overwrite(tmp_path):
    png = tmp_path / "precious.png"
    png.write_bytes(b"user data")
    result = CliRunner().invoke(build_app(), ["toy", "ring", "--steps", "2", "-o", str(png)])
    assert isinstance(result.exception, UserError) and "--overwrite" in str(result.exception)
    assert png.read_bytes() == b"user data"
    result = CliRunner().invoke(build_app(), ["toy", "ring", "--steps", "2", "-o", str(png), "--overwrite"])
    assert result.exit_code == 0, result.output
    with Image.open(png) as im:
        assert im.format == "PNG"
