"""gan_app.load: the Python API returns what the CLI writes, in the kind of image it was given."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import gan_app
from gan_app.api import ImageModel
from gan_app.errors import UserError
from gan_app.paths import shipped_blur_estimator
from gan_app.runtime.images import Picture
from gan_app.runtime.batch import process_images


@pytest.fixture(scope="module")
def conv(exported):
    return gan_app.load(exported["conv"], threads=1)


@pytest.fixture(scope="module")
def sr(exported):
    return gan_app.load(exported["sr"], threads=1)


def test_array_result_equals_the_cli_file(conv, photo, tmp_path):
    src = tmp_path / "cat.png"
    Image.fromarray(photo[:40, :56]).save(src)
    (written,) = process_images(conv, [str(src)], None)
    result = conv(photo[:40, :56])
    assert isinstance(conv, ImageModel) and result.dtype == np.uint8 and result.shape == (40, 56, 3)
    np.testing.assert_array_equal(result, np.asarray(Image.open(written)))
    assert not np.array_equal(result, photo[:40, :56])        # the model did something


def test_the_kind_of_image_comes_back(conv, photo):
    rgb = photo[:32, :40]
    base = conv(rgb).astype(np.float32)
    grey = conv(rgb[..., 0])
    assert grey.shape == (32, 40) and grey.dtype == np.uint8
    deep = conv(rgb.astype(np.uint16) * 257)
    assert deep.dtype == np.uint16 and np.abs(deep / 257.0 - base).max() <= 1.0
    unit = conv(rgb.astype(np.float32) / 255)
    assert unit.dtype == np.float32 and 0 <= unit.min() and unit.max() <= 1
    assert np.abs(unit * 255 - base).max() <= 1.0
    alpha = np.linspace(0, 255, 32 * 40).reshape(32, 40, 1).astype(np.uint8)
    rgba = conv(np.concatenate([rgb, alpha], axis=-1))
    assert rgba.shape == (32, 40, 4) and np.array_equal(rgba[..., 3], alpha[..., 0])
    assert np.array_equal(rgba[..., :3], base.astype(np.uint8))
    pil = conv(Image.fromarray(rgb))
    assert isinstance(pil, Image.Image) and pil.mode == "RGB" and np.array_equal(np.asarray(pil), base.astype(np.uint8))
    assert conv(Image.fromarray(rgb).convert("LA")).mode == "LA"


def test_integer_inputs_are_restored_into_integers(sr, photo, monkeypatch):
    """uint8/uint16 arrays and PIL images take the integer path: the same pixels as the float output
    rounded, with no float copy of the output made."""
    deep = photo[:16, :20, 0].astype(np.uint16) * 257 + 3                   # 16-bit grey
    asked, restore = [], ImageModel.restore
    monkeypatch.setattr(ImageModel, "restore", lambda self, picture, **kw: asked.append(kw["dtype"]) or restore(self, picture, **kw))
    array, pil, unit = sr(deep, tile=8), sr(Image.fromarray(deep), tile=8), sr(photo[:16, :20].astype(np.float32) / 255)
    assert asked == [np.uint16, np.uint16, None] and pil.mode == "I;16" and array.shape == (32, 40)
    expected = np.round(np.clip(restore(sr, Picture(deep[..., None], None, "L"), tile=8)[..., 0], 0, 1) * np.float32(65535))
    np.testing.assert_array_equal(array, expected.astype(np.uint16))
    np.testing.assert_array_equal(np.asarray(pil), array)
    assert unit.dtype == np.float32


def test_upscaler_scales_and_keeps_alpha(sr, photo):
    rgba = np.concatenate([photo[:16, :20], np.full((16, 20, 1), 200, np.uint8)], axis=-1)
    out = sr.process(rgba, tile=8)
    assert sr.scale == 2 and out.shape == (32, 40, 4) and (out[..., 3] == 200).all()
    with pytest.raises(UserError, match="over the max_pixels limit 100"):
        sr(photo[:16, :20], max_pixels=100)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((8, 8, 3), np.int32), "uint8, uint16 or float"),
    (np.zeros((8, 8, 5), np.uint8), "C in 1..4"),
    (np.zeros((2, 8, 3), np.uint8), "smallest"),
    (np.full((8, 8, 3), np.nan, np.float32), "NaN or Inf"),
    ([[0, 1], [2, 3]], "numpy array or a PIL image"),
])
def test_bad_arrays_are_one_line_errors(conv, bad, message):
    with pytest.raises(UserError, match=message):
        conv(bad)


def test_blur_scale_is_checked(conv, sr, photo):
    with pytest.raises(UserError, match="blur_scale"):
        conv(photo[:32, :32], blur_scale=3)
    assert conv(photo[:32, :32], blur_scale=2).shape == (32, 32, 3)
    with pytest.raises(UserError, match="changes the image size"):
        sr(photo[:32, :32], blur_scale="auto")


@pytest.mark.skipif(not shipped_blur_estimator().is_file(), reason="no shipped blur-extent estimator")
def test_blur_scale_auto_is_the_level_the_estimate_picks(conv, photo):
    from gan_app.runtime.blur_extent import REACH, auto_level

    level = auto_level(photo.transpose(2, 0, 1), reach=REACH)     # its card names no reach: the default
    np.testing.assert_array_equal(conv(photo, blur_scale="auto"), conv(photo, blur_scale=level))


def test_generators_of_the_shipped_heads(tmp_path):
    from gan_app.apps.cli import build_app

    cond = gan_app.load("generate")      # a verb names its head too
    images = cond.generate(class_="Sneaker", n=4, seed=3)
    assert images.dtype == np.uint8 and images.shape[0] == 4 and images.ndim == 4
    np.testing.assert_array_equal(images, cond.generate(class_="sneak", n=4, seed=3))
    assert not np.array_equal(images, cond.generate(class_="Trouser", n=4, seed=3))
    out = tmp_path / "grid.png"
    result = CliRunner().invoke(build_app(), ["generate", "--class", "Sneaker", "-n", "4", "--seed", "3", "--zoom", "1",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    h, w = images.shape[1:3]
    cell = np.asarray(Image.open(out))[2:2 + h, 2:2 + w]        # first grid cell: the CLI's image 0
    np.testing.assert_array_equal(cell.reshape(images[0].shape), images[0])
    with pytest.raises(UserError, match="unknown class"):
        cond.generate(class_="Spaceship", n=1)

    text = gan_app.load("text2image", threads=1)
    drawn = text.generate("a red circle", n=2, seed=1)
    assert drawn.shape[0] == 2 and drawn.shape[-1] == 3 and "red" in text.words
    walk = text.interpolate("a red circle", "a blue square", n=3, seed=1)
    assert walk.shape[0] == 3 and not np.array_equal(walk[0], walk[-1])


def test_load_names_and_refusals(exported):
    assert gan_app.load("deblur").head == "deblur"
    assert gan_app.load("upscale").scale == 4 and gan_app.load("superres-x2-psnr").scale == 2
    with pytest.raises(UserError, match="does not take an image"):
        ImageModel(gan_app.api.load_model(exported["cond"]))
    with pytest.raises(UserError, match="does not exist"):
        gan_app.load("nowhere/model.onnx")


def test_deblur_routes_jpeg_photos_to_the_camera_model(photo, tmp_path, monkeypatch):
    """`gan_app.load("deblur")` (and `gan-app deblur`'s default `--model auto`): an image that shows JPEG's grid
    gets exactly deblur-v1-camera's pixels, a lossless one the newest default's; naming a model turns routing off."""
    import io

    from gan_app.api import RoutedImageModel, routed
    from gan_app.paths import find_model

    auto = gan_app.load("deblur", threads=1)
    assert isinstance(auto, RoutedImageModel) and auto.path.name == "deblur-v2.onnx"
    buffer = io.BytesIO()
    Image.fromarray(photo[:64, :96]).save(buffer, format="JPEG", quality=85)
    jpeg, lossless = np.asarray(Image.open(buffer)), photo[:64, :96]
    camera, default = gan_app.load("deblur-v1-camera", threads=1), gan_app.load("deblur-v2", threads=1)
    assert type(camera) is ImageModel and type(default) is ImageModel
    assert camera.default_level == "auto" and default.default_level == 1     # the cards' default_blur_scale
    np.testing.assert_array_equal(auto(jpeg), camera(jpeg, blur_scale="auto"))
    np.testing.assert_array_equal(auto(lossless), default(lossless, blur_scale=1))
    np.testing.assert_array_equal(camera(jpeg), camera(jpeg, blur_scale="auto"))
    assert not np.array_equal(camera(jpeg), default(jpeg))                   # the choice matters
    src = tmp_path / "shot.jpg"
    src.write_bytes(buffer.getvalue())
    (written,) = process_images(gan_app.api.load_image("deblur", threads=1), [str(src)], tmp_path / "out.png")
    np.testing.assert_array_equal(np.asarray(Image.open(written)), camera(jpeg))
    assert auto.with_ensemble(2).pick(jpeg).onnx.path == find_model("deblur-v1-camera")
    assert routed("deblur-v2") is None and routed("superres") is None          # a model name; a head that does not route
    monkeypatch.setattr("gan_app.paths.find_model", lambda name: None)      # camera model not installed:
    assert routed("deblur") is None                                          # the default alone
