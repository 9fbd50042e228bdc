"""`gan-app generate` on ONNX Runtime: class choice, counts, grids, walks and refusals."""

import numpy as np
import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from gan_app.apps.conditional.generate import generate_command, resolve_class
from gan_app.errors import UserError
from gan_app.runtime.sampling import MAX_SAMPLES, check_count, grid, latents, slerp, to_uint8_images

NAMES = ["T-shirt/top", "Trouser", "Pullover", "Sneaker", "Sandal", "Shirt", "Ankle boot"]


def _invoke(*args):
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command("generate")(generate_command)
    return CliRunner().invoke(app, ["generate", *args])


def test_resolve_class_by_name_prefix_and_index():
    assert resolve_class("sneaker", NAMES) == 3
    assert resolve_class("Trou", NAMES) == 1
    assert resolve_class("4", NAMES) == 4
    assert resolve_class("shirt", NAMES) == 5  # exact beats the T-shirt/top substring
    assert resolve_class("boot", NAMES) == 6  # unique part of a name
    with pytest.raises(UserError, match="valid classes: T-shirt/top, Trouser, Pullover, Sneaker, Sandal, Shirt"):
        resolve_class("Hat", NAMES)
    with pytest.raises(UserError, match="valid classes"):
        resolve_class("S", NAMES)  # ambiguous prefix: Sneaker / Sandal
    with pytest.raises(UserError, match="out of range 0..6"):
        resolve_class("7", NAMES)


def test_check_count(capsys):
    assert check_count(7) == 7
    assert check_count(10**9) == MAX_SAMPLES
    assert "capped" in capsys.readouterr().err
    with pytest.raises(UserError, match="at least 1"):
        check_count(0)


def test_latents_are_seeded_and_walks_end_at_the_seed_draws():
    a = latents(4, 6, seed=5, interpolate=False)
    np.testing.assert_array_equal(a, latents(4, 6, seed=5, interpolate=False))
    walk = latents(5, 6, seed=5, interpolate=True)
    start, end = (np.random.default_rng(s).standard_normal(6) for s in (5, 6))
    np.testing.assert_allclose(walk[0], start, rtol=1e-6)
    np.testing.assert_allclose(walk[-1], end, rtol=1e-6)
    # slerp of equal-norm ends keeps the norm along the whole path
    u, v = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    np.testing.assert_allclose(np.linalg.norm(slerp(u, v, 7), axis=1), 1.0)


def test_grid_layout():
    images = np.stack([np.full((1, 2, 2), v) for v in (-1.0, 0.0, 1.0)])  # (3, 1, 2, 2) in [-1, 1]
    picture = grid(to_uint8_images(images, (-1, 1)), columns=2, zoom=2, pad=1)
    assert picture.shape == (2 * 5 + 1, 2 * 5 + 1, 1)
    assert picture[1, 1, 0] == 0 and picture[1, 6, 0] == 128 and picture[6, 1, 0] == 255
    assert picture[6, 6, 0] == 0  # empty last cell


def test_cli_writes_a_grid_of_the_class(exported, tmp_path):
    out = tmp_path / "g.png"
    result = _invoke("--model", str(exported), "--class", "1", "-n", "6", "--seed", "3", "-o", str(out), "--zoom", "1")
    assert result.exit_code == 0, result.output
    picture = np.asarray(Image.open(out))
    assert picture.shape == (2 + 2 * 10, 2 + 3 * 10)  # 3 columns x 2 rows of 8 px + 2 px gaps
    again = tmp_path / "h.png"
    _invoke("--model", str(exported), "--class", "1", "-n", "6", "--seed", "3", "-o", str(again), "--zoom", "1")
    np.testing.assert_array_equal(picture, np.asarray(Image.open(again)))  # seeded
    truncated = tmp_path / "t.png"     # off by default; --truncation redraws the noise's tails
    _invoke("--model", str(exported), "--class", "1", "-n", "6", "--seed", "3", "-o", str(truncated), "--zoom", "1",
            "--truncation", "0.5")
    assert not np.array_equal(picture, np.asarray(Image.open(truncated)))


def test_cli_each_class_and_interpolate(exported, tmp_path):
    out = tmp_path / "rows.png"
    result = _invoke("--model", str(exported), "--each-class", "--interpolate", "-n", "4", "-o", str(out), "--zoom", "1")
    assert result.exit_code == 0, result.output
    assert np.asarray(Image.open(out)).shape == (2 + 2 * 10, 2 + 4 * 10)  # 2 classes x 4 walk steps


def test_cli_list_classes(exported):
    result = _invoke("--model", str(exported), "--list-classes")
    assert result.exit_code == 0 and result.output.split() == ["0", "0", "1", "1"]


@pytest.mark.parametrize("args, message", [
    (["--class", "Sneaker"], "unknown class 'Sneaker'; valid classes: 0, 1"),
    (["--class", "0", "-n", "0"], "at least 1"),
    ([], "pass --class"),
    (["--class", "0", "--each-class"], "pass --class"),
    (["--class", "0", "--truncation", "-2"], "--truncation must be 0 (off) or >= 0.1"),
])
def test_cli_refusals(exported, tmp_path, args, message):
    result = _invoke("--model", str(exported), "-o", str(tmp_path / "x.png"), *args)
    assert isinstance(result.exception, UserError) and message in str(result.exception)


def test_cli_caps_huge_counts_and_refuses_overwrite(exported, tmp_path):
    out = tmp_path / "big.png"
    result = _invoke("--model", str(exported), "--class", "0", "-n", "100000", "-o", str(out), "--zoom", "1")
    assert result.exit_code == 0 and f"capped to {MAX_SAMPLES}" in result.output
    assert "1024 images" in result.output
    result = _invoke("--model", str(exported), "--class", "0", "-o", str(out))
    assert isinstance(result.exception, UserError) and "--overwrite" in str(result.exception)
