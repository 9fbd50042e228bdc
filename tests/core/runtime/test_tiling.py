"""Padding, tile layout and seam-free blending, checked against untiled runs of real exported nets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gan_app.runtime.images import to_channels
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


def _blended_on_whole_planes(model, image: np.ndarray, tile: int, overlap: int) -> np.ndarray:
    """The reference the band streaming must match bit for bit: every tile summed into one image-sized
    accumulator and weight plane, divided at the end. `image` (C, H, W) is padded to the multiple."""
    from gan_app.runtime.tiling import _run, _window

    scale, multiple = model.spec.scale, model.spec.size_multiple
    ys, xs = (tile_starts(n, tile, overlap, multiple) for n in image.shape[1:])
    out = weight = None
    for iy, y in enumerate(ys):
        for ix, x in enumerate(xs):
            part = _run(model, "image", image[:, y : y + tile, x : x + tile], scale, None)
            if out is None:
                out = np.zeros((part.shape[0], image.shape[1] * scale, image.shape[2] * scale), np.float32)
                weight = np.zeros(out.shape[1:], np.float32)
            th, tw = part.shape[1] // scale, part.shape[2] // scale
            w = np.outer(_window(ys, iy, th, scale), _window(xs, ix, tw, scale))
            rows, cols = slice(y * scale, (y + th) * scale), slice(x * scale, (x + tw) * scale)
            out[:, rows, cols] += part * w
            weight[rows, cols] += w
    return out / weight


def _rounded(image: np.ndarray, dtype) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * np.float32(np.iinfo(dtype).max)).astype(dtype)


@pytest.mark.parametrize("kind", ["conv", "sr", "sr4"])
@pytest.mark.parametrize("size, tile, overlap", [((37, 51), 0, 32), ((37, 51), 16, 8), ((96, 128), 48, 16),
                                                 ((61, 90), 32, 0), ((96, 128), 40, 32)])
def test_integer_output_is_the_float_output_rounded_band_by_band(exported, photo, kind, size, tile, overlap):
    """Float output: untiled exactly the model's, tiled exactly whole-plane blending; uint8/uint16 output:
    exactly round(clip(float) * full), though no float image is ever assembled."""
    model = load_model(exported[kind])
    image = photo[: size[0], : size[1]].transpose(2, 0, 1)                  # (3, h, w): odd sizes are padded
    scale = model.spec.scale
    out = infer_image(model, image, tile=tile, overlap=overlap)
    assert out.shape == (3, size[0] * scale, size[1] * scale) and out.dtype == np.float32
    padded = pad_to_multiple(image, 2)
    if tile == 0:
        low, high = model.spec.value_range
        direct = model.run({"image": (padded.astype(np.float32) / 255 * np.float32(high - low) + np.float32(low))[None]})[0]
        expected = (direct - np.float32(low)) / np.float32(high - low)
    else:
        expected = _blended_on_whole_planes(model, padded, tile, min(overlap, tile // 2))
    np.testing.assert_array_equal(out, expected[:, : out.shape[1], : out.shape[2]])
    for dtype in (np.uint8, np.uint16):
        rounded = infer_image(model, image, tile=tile, overlap=overlap, dtype=dtype)
        assert rounded.dtype == dtype and rounded.transpose(1, 2, 0).flags.c_contiguous
        np.testing.assert_array_equal(rounded, _rounded(out, dtype))
    grey = infer_image(model, image, tile=tile, overlap=overlap, dtype=np.uint8, channels=1)  # luma before rounding
    np.testing.assert_array_equal(grey[0], _rounded(to_channels(out.transpose(1, 2, 0), 1)[..., 0], np.uint8))


def test_integer_output_holds_no_float_image(exported, photo):
    """Memory: asked for uint8, the numpy buffers peak at the uint8 output plus one band of tile rows
    (sums and weights, (tile * scale) rows high), far below the float32 output (tracemalloc counts numpy)."""
    import tracemalloc

    model = load_model(exported["sr"])
    image = np.concatenate([photo] * 16, axis=0).transpose(2, 0, 1)             # (3, 1536, 128) -> x2
    tracemalloc.start()
    try:
        out = infer_image(model, image, tile=32, overlap=8, dtype=np.uint8)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    band = 64 * 256 * 4 * (3 + 1)                                              # float32 sums + weights
    assert out.shape == (3, 3072, 256) and peak < out.nbytes + 4 * band, (peak, out.nbytes, band)
    assert peak < out.size * 4 / 3                                             # a third of a float32 output
