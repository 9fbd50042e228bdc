"""Padding, tile layout and seam-free blending, checked against untiled runs of real exported nets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan_app.runtime.session import load_model
from gan_app.runtime.tiling import _ramp, choose_tile, infer_image, pad_to_multiple, tile_starts


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / np.mean((a.astype(np.float64) - b) ** 2)))


def test_pad_reflects_and_keeps_the_image():
    image = np.arange(35, dtype=np.float32).reshape(1, 5, 7)
    padded = pad_to_multiple(image, 4)
    assert padded.shape == (1, 8, 8)
    np.testing.assert_array_equal(padded[:, :5, :7], image)
    np.testing.assert_array_equal(padded[0, 5:8, :7], image[0, [3, 2, 1]])  # reflect without repeating the edge
    np.testing.assert_array_equal(padded[0, :5, 7], image[0, :, 5])


def test_pad_handles_images_smaller_than_the_pad():
    image = np.array([[[3, 9]]], dtype=np.uint8)  # (1, 1, 2): reflect is impossible on a 1-pixel axis
    padded = pad_to_multiple(image, 8)
    assert padded.shape == (1, 8, 8) and padded.dtype == np.uint8
    assert set(np.unique(padded)) == {3, 9}
    np.testing.assert_array_equal(padded[0, 0, :4], [3, 9, 3, 9])


@pytest.mark.parametrize("length,tile,overlap,multiple", [(96, 32, 8, 2), (100, 48, 16, 4), (40, 16, 0, 8), (70, 64, 16, 2)])
def test_tiles_cover_the_image_on_the_grid_with_enough_overlap(length, tile, overlap, multiple):
    starts = tile_starts(length, tile, overlap, multiple)
    assert starts[0] == 0 and starts[-1] == length - tile
    assert all(s % multiple == 0 for s in starts)
    assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:]))  # no gaps, overlap kept


def test_ramps_of_neighbours_sum_to_one():
    ramp = _ramp(24)
    assert ramp[0] < 0.01 and ramp[-1] > 0.99
    np.testing.assert_allclose(ramp + ramp[::-1], 1.0, atol=1e-6)


def test_auto_tile_size_fits_the_budget():
    assert choose_tile(1000, 1000, scale=1, multiple=8, budget=2_000_000) is None
    tile = choose_tile(4000, 6000, scale=2, multiple=8, budget=2_000_000)
    assert tile % 8 == 0 and (tile * 2) ** 2 <= 2_000_000 and (tile * 2 + 16) ** 2 > 2_000_000


def test_odd_sizes_are_padded_and_cropped_back(exported, photo):
    model = load_model(exported["sr"])
    image = photo[:37, :51].transpose(2, 0, 1)  # (3, 37, 51): odd, the model needs multiples of 2
    out = infer_image(model, image, tile=0)
    assert out.shape == (3, 74, 102)
    padded = np.pad(image, ((0, 0), (0, 1), (0, 1)), mode="reflect").astype(np.float32) / 255 * 2 - 1
    direct = (model.run({"image": padded[None]})[0] + 1) / 2
    np.testing.assert_allclose(out, direct[:, :74, :102], atol=1e-6)


@pytest.mark.parametrize("kind", ["conv", "sr"])
def test_tiled_matches_untiled_and_naive_tiling_does_not(exported, photo, kind):
    model = load_model(exported[kind])
    calls = []
    run = model.run
    model.run = lambda feeds: calls.append(feeds["image"].shape) or run(feeds)
    image = photo.transpose(2, 0, 1)  # (3, 96, 128)
    full = infer_image(model, image, tile=0)
    calls.clear()
    tiled = infer_image(model, image, tile=48, overlap=16)
    assert len(calls) == 3 * 4 and max(max(shape[2:]) for shape in calls) == 48  # memory bounded by the tile
    naive = infer_image(model, image, tile=48, overlap=0)
    assert tiled.shape == full.shape == (3, 96 * model.spec.scale, 128 * model.spec.scale)
    assert np.abs(tiled - full).mean() < 1 / 255
    assert psnr(tiled, full) >= 45
    assert psnr(naive, full) < 45 and psnr(naive, full) < psnr(tiled, full) - 15  # seams: the test can fail


def test_auto_tiling_kicks_in_for_large_images(exported, photo, monkeypatch):
    from gan_app.runtime import tiling

    model = load_model(exported["conv"])
    image = photo.transpose(2, 0, 1)
    full = infer_image(model, image)
    monkeypatch.setattr(tiling, "RUN_OUTPUT_PIXELS", 64 * 64)
    shapes = []
    run = model.run
    model.run = lambda feeds: shapes.append(feeds["image"].shape) or run(feeds)
    auto = infer_image(model, image)
    assert max(max(s[2:]) for s in shapes) == 64 and len(shapes) > 1
    assert psnr(auto, full) >= 45


@pytest.mark.parametrize("height, width, tile", [(97, 130, 64), (64, 200, 48), (33, 33, 16)])
def test_identity_model_is_reconstructed_exactly_where_three_tiles_overlap(height, width, tile):
    """Blend weights are normalised: an identity model gives the input back at any tiling layout."""
    from types import SimpleNamespace

    from gan_app.head import GraphInput, GraphSpec

    spec = GraphSpec(inputs=(GraphInput("image", "image", ("B", 3, "H", "W")),), value_range=(0.0, 1.0))

    class Identity(SimpleNamespace):
        def image_input(self):
            return "image"

        def run(self, feeds):
            return feeds["image"]

    model = Identity(spec=spec, path=Path("identity.onnx"), head="test")
    image = np.random.default_rng(0).random((3, height, width)).astype(np.float32)
    out = infer_image(model, image, tile=tile, overlap=32)
    np.testing.assert_allclose(out, image, atol=1e-6)
    starts = tile_starts(width, tile, min(32, tile // 2), 1)
    assert any(a + tile > c for a, c in zip(starts, starts[2:]))   # the layout has columns three tiles share
