"""Image IO keeps what the user gave: orientation, mode, bit depth, alpha; and fails clearly."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from gan_app.errors import UserError
from gan_app.runtime.images import Picture, output_dtype, read_image, side_by_side, to_channels, to_unit, write_image


def _gradient(height: int, width: int) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) % 256], -1).astype(np.uint8)


def _roundtrip(tmp_path, image: Image.Image, name: str, out_name: str | None = None):
    src = tmp_path / name
    image.save(src)
    picture = read_image(src)
    out = write_image(tmp_path / (out_name or f"out_{name}"), to_unit(picture.pixels), picture)
    return picture, Image.open(out)


def test_exif_orientation_is_honoured(tmp_path):
    pixels = _gradient(20, 30)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    Image.fromarray(pixels).save(tmp_path / "phone.png", exif=exif)
    picture = read_image(tmp_path / "phone.png")
    np.testing.assert_array_equal(picture.pixels, np.rot90(pixels, -1))


def test_grey_stays_grey(tmp_path):
    grey = _gradient(16, 24)[..., 0]
    picture, out = _roundtrip(tmp_path, Image.fromarray(grey), "g.png")
    assert picture.pixels.shape == (16, 24, 1) and out.mode == "L"
    np.testing.assert_array_equal(np.asarray(out), grey)


def test_rgba_alpha_is_restored_unchanged(tmp_path):
    rgba = np.dstack([_gradient(16, 24), np.arange(16 * 24, dtype=np.uint8).reshape(16, 24)])
    picture, out = _roundtrip(tmp_path, Image.fromarray(rgba), "a.png")
    assert out.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(out), rgba)


def test_alpha_is_resized_for_an_upscaled_output(tmp_path):
    alpha = np.zeros((16, 24), np.uint8)
    alpha[:, 12:] = 255  # a hard edge: flat regions must stay flat after Lanczos x2
    Image.fromarray(np.dstack([_gradient(16, 24), alpha])).save(tmp_path / "a.png")
    picture = read_image(tmp_path / "a.png")
    big = np.repeat(np.repeat(to_unit(picture.pixels), 2, 0), 2, 1)  # (32, 48, 3)
    out = np.asarray(Image.open(write_image(tmp_path / "big.png", big, picture)))
    assert out.shape == (32, 48, 4)
    assert (out[:, :18, 3] == 0).all() and (out[:, 30:, 3] == 255).all()  # Lanczos reaches 3 input px
    assert 0 < out[0, 23, 3] < out[0, 24, 3] < 255 and abs(int(out[0, 23, 3]) + int(out[0, 24, 3]) - 255) <= 1  # symmetric edge


def test_la_and_palette_images(tmp_path):
    la = np.dstack([_gradient(8, 8)[..., 0], np.full((8, 8), 77, np.uint8)])
    _, out = _roundtrip(tmp_path, Image.fromarray(la), "la.png")
    assert out.mode == "LA"
    np.testing.assert_array_equal(np.asarray(out), la)
    palette = Image.fromarray(_gradient(8, 8)).quantize(colors=16)
    _, out = _roundtrip(tmp_path, palette, "p.png")
    assert out.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(out), np.asarray(palette.convert("RGB")))
    palette.info["transparency"] = 0
    picture, out = _roundtrip(tmp_path, palette, "pt.png")
    assert out.mode == "RGBA" and picture.alpha is not None


def test_sixteen_bit_keeps_its_precision(tmp_path):
    values = (np.arange(20 * 30, dtype=np.uint32).reshape(20, 30) * 109 % 65536).astype(np.uint16)
    picture, out = _roundtrip(tmp_path, Image.fromarray(values), "d.png")
    assert picture.pixels.dtype == np.uint16 and out.mode == "I;16"
    np.testing.assert_array_equal(np.asarray(out), values)
    _, tif = _roundtrip(tmp_path, Image.fromarray(values), "d.tif")
    np.testing.assert_array_equal(np.asarray(tif), values)
    jpeg = Image.open(write_image(tmp_path / "d8.jpg", to_unit(picture.pixels), picture))
    assert jpeg.mode == "L"  # JPEG cannot hold 16 bits: written as 8-bit grey


def test_cmyk_is_written_back_as_cmyk(tmp_path):
    cmyk = Image.fromarray(_gradient(8, 8)).convert("CMYK")
    picture, out = _roundtrip(tmp_path, cmyk, "c.tif")
    assert picture.pixels.shape == (8, 8, 3) and out.mode == "CMYK"
    np.testing.assert_array_equal(np.asarray(out), np.asarray(cmyk))


def test_cmyk_jpeg_to_png_is_written_as_rgb(tmp_path):
    # PNG cannot hold CMYK: a print-ready JPEG deblurred to the default .png output must not fail,
    # and its CMYK colour profile must not be attached to the RGB pixels.
    Image.fromarray(_gradient(16, 16)).convert("CMYK").save(tmp_path / "c.jpg", icc_profile=b"cmyk profile bytes")
    picture = read_image(tmp_path / "c.jpg")
    assert picture.icc_profile == b"cmyk profile bytes"
    png = Image.open(write_image(tmp_path / "c.png", to_unit(picture.pixels), picture))
    assert png.mode == "RGB" and "icc_profile" not in png.info
    np.testing.assert_array_equal(np.asarray(png), picture.pixels)
    jpeg = Image.open(write_image(tmp_path / "back.jpg", to_unit(picture.pixels), picture))
    assert jpeg.mode == "CMYK" and jpeg.info.get("icc_profile") == b"cmyk profile bytes"


def test_integer_pixels_are_written_as_they_are(tmp_path):
    """Output already in the depth written (what `output_dtype` asks the model for) is not quantized again;
    floats and integers give the same file, 8-bit or 16-bit, and the same before|after picture."""
    rgb = _gradient(16, 24)
    colour = Picture(rgb, None, "RGB")
    as_float, as_int = (np.asarray(Image.open(write_image(tmp_path / f"{n}.png", p, colour)))
                        for n, p in (("f", to_unit(rgb)), ("i", rgb)))
    np.testing.assert_array_equal(as_int, rgb)
    np.testing.assert_array_equal(as_float, rgb)
    deep = (rgb[..., :1].astype(np.uint16) * 257 + 3)                        # (16, 24, 1), not 8-bit values
    grey16 = Picture(deep, None, "I;16")
    assert output_dtype(grey16, "PNG") == np.uint16 and output_dtype(grey16, "JPEG") == np.uint8
    assert output_dtype(grey16) == np.uint16 and output_dtype(colour, "TIFF") == np.uint8
    np.testing.assert_array_equal(np.asarray(Image.open(write_image(tmp_path / "d.png", deep, grey16))), deep[..., 0])
    jpeg = Image.open(write_image(tmp_path / "d.jpg", np.round(deep / 257).astype(np.uint8), grey16))
    assert jpeg.mode == "L"
    np.testing.assert_array_equal(np.asarray(side_by_side(rgb, rgb)), np.asarray(side_by_side(to_unit(rgb), to_unit(rgb))))


def test_channel_conversion():
    grey = np.array([[[10]], [[200]]], np.uint8)  # (2, 1, 1)
    np.testing.assert_array_equal(to_channels(grey, 3), np.repeat(grey, 3, axis=-1))
    rgb = _gradient(4, 4)
    luma = to_channels(rgb, 1)[..., 0] * 255
    assert np.abs(luma - np.asarray(Image.fromarray(rgb).convert("L"), np.float32)).max() <= 1


def test_unreadable_inputs_fail_clearly(tmp_path):
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(UserError, match="not an image"):
        read_image(tmp_path / "text.png")
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)  # incompressible
    Image.fromarray(noise).save(tmp_path / "full.png")
    data = (tmp_path / "full.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="truncated or corrupt"):
        read_image(tmp_path / "cut.png")
    Image.fromarray(_gradient(3, 9)).save(tmp_path / "tiny.png")
    with pytest.raises(UserError, match="9x3 pixels; the smallest image gan-app processes is 4x4"):
        read_image(tmp_path / "tiny.png")
    with pytest.raises(UserError, match="does not exist"):
        read_image(tmp_path / "missing.png")


def test_writes_are_atomic_and_never_overwrite_silently(tmp_path):
    Image.fromarray(np.dstack([_gradient(8, 8), np.full((8, 8), 9, np.uint8)])).save(tmp_path / "a.png")
    picture = read_image(tmp_path / "a.png")
    with pytest.raises(UserError, match="cannot write a RGBA image as JPEG"):
        write_image(tmp_path / "a.jpg", to_unit(picture.pixels), picture)
    with pytest.raises(UserError, match="already exists"):
        write_image(tmp_path / "a.png", to_unit(picture.pixels), picture)
    with pytest.raises(UserError, match="cannot tell the image format"):
        write_image(tmp_path / "a.xyz", to_unit(picture.pixels), picture)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]  # no partial or temp files left


@pytest.mark.parametrize("name", ["anim.gif", "anim.png", "anim.webp", "pages.tif"])
def test_multi_frame_files_are_refused_not_cut_to_frame_one(tmp_path, name):
    frames = [Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)) for i in range(3)]
    frames[0].save(tmp_path / name, save_all=True, append_images=frames[1:])
    with pytest.raises(UserError, match=f"{name} has 3 frames; gan-app processes still images: extract the frame"):
        read_image(tmp_path / name)


def test_32_bit_grey_is_refused_unless_it_fits_16_bits(tmp_path):
    deep = np.tile(np.array([[0, 70000], [5, 65535]], np.int32), (4, 4))
    Image.fromarray(deep).save(tmp_path / "deep.tif")   # mode "I"
    with pytest.raises(UserError, match="32-bit grey values 0..70000, outside the 16-bit range"):
        read_image(tmp_path / "deep.tif")
    Image.fromarray(np.minimum(deep, 65535)).save(tmp_path / "fits.tif")
    picture = read_image(tmp_path / "fits.tif")
    assert picture.mode == "I;16" and picture.pixels.dtype == np.uint16 and picture.pixels.max() == 65535


def test_a_full_disk_is_named_as_such(tmp_path, monkeypatch):
    import errno

    Image.fromarray(_gradient(8, 8)).save(tmp_path / "a.png")
    picture = read_image(tmp_path / "a.png")

    def full(self, fp, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full)
    with pytest.raises(UserError, match=r"cannot write .*b\.png: No space left on device; free some space") as info:
        write_image(tmp_path / "b.png", to_unit(picture.pixels), picture)
    assert "use a .png" not in str(info.value) and "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]  # the temp file is gone too
