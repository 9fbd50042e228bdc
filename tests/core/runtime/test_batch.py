"""process_images: files, folders, globs; safe output planning; modes kept through a real model."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_app.errors import UserError
from gan_app.api import ImageModel
from gan_app.runtime.batch import process_images
from gan_app.runtime.images import read_image
from gan_app.runtime.session import load_model


@pytest.fixture(scope="module")
def conv(exported):
    return load_model(exported["conv"])


@pytest.fixture(scope="module")
def sr(exported):
    return load_model(exported["sr"])


def _save(path, array):
    Image.fromarray(array).save(path)
    return path


def test_single_file_next_to_input_matches_the_model(conv, photo, tmp_path):
    src = _save(tmp_path / "cat.png", photo[:40, :56])
    (out,) = process_images(conv, [str(src)], None)
    assert out == (tmp_path / "cat_out.png").resolve()
    expected = np.round(np.clip(ImageModel(conv).restore(read_image(src)), 0, 1) * 255)
    assert np.abs(np.asarray(Image.open(out), np.float32) - expected).max() <= 1


def test_output_file_folder_and_glob(conv, photo, tmp_path):
    for name in ("a.png", "b.jpg"):
        _save(tmp_path / name, photo[:16, :16])
    (tmp_path / "notes.txt").write_text("skip me")
    single = process_images(conv, [str(tmp_path / "a.png")], str(tmp_path / "x" / "named.webp"))
    assert single == [(tmp_path / "x" / "named.webp").resolve()] and Image.open(single[0]).format == "WEBP"
    written = process_images(conv, [str(tmp_path)], str(tmp_path / "outdir"))
    assert sorted(p.name for p in written) == ["a.png", "b.jpg"]
    globbed = process_images(conv, [str(tmp_path / "*.jpg")], str(tmp_path / "g"))
    assert [p.name for p in globbed] == ["b.jpg"]


def test_never_overwrites_without_permission(conv, photo, tmp_path):
    src = _save(tmp_path / "a.png", photo[:16, :16])
    original = src.read_bytes()
    (out,) = process_images(conv, [str(src)], None)
    before = out.read_bytes()
    with pytest.raises(UserError, match=f"output {out} already exists; pass --overwrite"):
        process_images(conv, [str(src)], None)
    with pytest.raises(UserError, match="is an input file; refusing to overwrite it"):
        process_images(conv, [str(src)], str(src))
    assert src.read_bytes() == original
    process_images(conv, [str(src)], None, overwrite=True)
    assert out.read_bytes() == before  # same model, same input, replaced atomically


def test_clashing_outputs_and_bad_folders(conv, photo, tmp_path):
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        _save(tmp_path / folder / "same.png", photo[:16, :16])
    with pytest.raises(UserError, match="would both be written to"):
        process_images(conv, [str(tmp_path / "one"), str(tmp_path / "two")], str(tmp_path / "out"))
    (tmp_path / "file.txt").write_text("a file, not a folder")
    with pytest.raises(UserError, match="output folder .*file.txt/sub cannot be made: .*file.txt is not a folder"):
        process_images(conv, [str(tmp_path / "one")], str(tmp_path / "file.txt" / "sub"))
    with pytest.raises(UserError, match="does not exist"):
        process_images(conv, [str(tmp_path / "nope.png")], None)
    with pytest.raises(UserError, match="no files match"):
        process_images(conv, [str(tmp_path / "*.gif")], None)


def test_unwritable_folder(conv, photo, tmp_path, monkeypatch):
    src = _save(tmp_path / "a.png", photo[:16, :16])
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    access = os.access  # root may write anywhere: make the folder read-only as a read-only mount would
    monkeypatch.setattr(os, "access", lambda path, mode: access(path, mode) and Path(path) != locked.resolve())
    with pytest.raises(UserError, match="not writable"):
        process_images(conv, [str(src)], str(locked))


def test_a_bad_input_fails_before_anything_is_written(conv, photo, tmp_path):
    _save(tmp_path / "a.png", photo[:16, :16])
    (tmp_path / "b.png").write_text("not an image")
    with pytest.raises(UserError, match="b.png is not an image"):
        process_images(conv, [str(tmp_path)], str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()   # not even the output folder


def test_modes_survive_the_model(conv, sr, photo, tmp_path):
    grey = _save(tmp_path / "g.png", photo[:20, :24, 1])
    rgba = _save(tmp_path / "a.png", np.dstack([photo[:20, :24], np.arange(480, dtype=np.uint8).reshape(20, 24)]))
    deep = _save(tmp_path / "d.png", photo[:20, :24, 0].astype(np.uint16) * 257 + 3)
    out_grey, out_rgba, out_deep = (Image.open(p) for p in process_images(conv, [str(grey), str(rgba), str(deep)], None))
    assert (out_grey.mode, out_grey.size) == ("L", (24, 20))
    assert out_rgba.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(out_rgba)[..., 3], np.asarray(Image.open(rgba))[..., 3])  # alpha restored
    assert out_deep.mode == "I;16" and len(np.unique(np.asarray(out_deep) % 257)) > 1  # really 16-bit values
    (big,) = process_images(sr, [str(rgba)], str(tmp_path / "sr"))
    big = Image.open(big)
    assert (big.mode, big.size) == ("RGBA", (48, 40))


def test_outputs_are_restored_into_the_integers_written(conv, photo, tmp_path, monkeypatch):
    """No float output image: the model is asked for the depth each file is written in, and the pixels are
    exactly the float output rounded (a grey photo through a colour model: luma before rounding)."""
    grey = _save(tmp_path / "g.png", photo[:24, :32, 1])
    deep = _save(tmp_path / "d.png", photo[:24, :32, 0].astype(np.uint16) * 257 + 3)
    asked, restore = [], ImageModel.restore
    monkeypatch.setattr(ImageModel, "restore", lambda self, picture, **kw: asked.append(kw["dtype"]) or restore(self, picture, **kw))
    outs = process_images(conv, [str(grey), str(deep)], str(tmp_path / "out"), tile=16)
    (jpeg,) = process_images(conv, [str(deep)], str(tmp_path / "d.jpg"), tile=16)
    assert asked == [np.uint8, np.uint16, np.uint8]
    for src, out, dtype in ((grey, outs[0], np.uint8), (deep, outs[1], np.uint16)):
        result = restore(ImageModel(conv), read_image(src), tile=16)        # float32 (24, 32, 1)
        expected = np.round(np.clip(result[..., 0], 0, 1) * np.float32(np.iinfo(dtype).max)).astype(dtype)
        np.testing.assert_array_equal(np.asarray(Image.open(out)), expected)
    assert Image.open(jpeg).mode == "L"


def test_compare_is_side_by_side(sr, photo, tmp_path):
    src = _save(tmp_path / "c.png", photo[:20, :24])
    (out,) = process_images(sr, [str(src)], None, compare=True)
    pair = np.asarray(Image.open(tmp_path / "c_out_compare.png"), np.int16)
    assert pair.shape == (40, 96, 3)
    np.testing.assert_array_equal(pair[:, 48:], np.asarray(Image.open(out)))
    upscaled = np.asarray(Image.open(src).resize((48, 40), Image.Resampling.BICUBIC), np.int16)
    np.testing.assert_array_equal(pair[:, :48], upscaled)


def test_non_image_models_are_refused(exported, tmp_path):
    with pytest.raises(UserError, match="does not take an image"):
        process_images(load_model(exported["cond"]), [str(tmp_path)], None)


def test_recursive_glob_finds_nested_files_and_ends_on_symlink_loops(conv, photo, tmp_path, monkeypatch):
    deep = tmp_path / "d" / "sub"
    deep.mkdir(parents=True)
    _save(tmp_path / "d" / "a.png", photo[:16, :16])
    _save(deep / "b.png", photo[:16, :16])
    for name in ("l1", "l2"):
        (tmp_path / "d" / name).symlink_to(".")                     # links to their own folder: a loop
    written = process_images(conv, [str(tmp_path / "d" / "**" / "*.png")], str(tmp_path / "out"))
    assert sorted(p.name for p in written) == ["a.png", "b.png"]
    monkeypatch.chdir(tmp_path)                                     # relative patterns too
    assert len(process_images(conv, ["d/**/*.png"], "out2")) == 2


def _bomb(path, side=60000):
    """A 70-byte PNG whose header declares side x side RGB pixels."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0))
                     + chunk(b"IEND", b""))
    return path


def test_decompression_bombs_and_oversized_images_are_refused_from_the_header(conv, photo, tmp_path):
    bomb = _bomb(tmp_path / "bomb.png")
    good = _save(tmp_path / "good.png", photo[:16, :16])
    with pytest.raises(UserError, match="60000x60000 .*over --max-pixels 64000000; pass a larger --max-pixels"):
        process_images(conv, [str(good), str(bomb)], str(tmp_path / "out"))
    assert not (tmp_path / "out" / "good.png").exists()            # refused before any work
    with pytest.raises(UserError, match="over --max-pixels 100"):
        process_images(conv, [str(good)], str(tmp_path / "o.png"), max_pixels=100)
    with pytest.raises(UserError, match="--max-pixels must be >= 1"):
        process_images(conv, [str(good)], str(tmp_path / "o.png"), max_pixels=0)


def test_a_bomb_in_a_training_folder_is_a_one_line_error(tmp_path):
    from gan_app.data.folders import load_rgb

    with pytest.raises(UserError, match="decompression bomb"):
        load_rgb(_bomb(tmp_path / "bomb.png"))


def test_a_symlinked_input_is_written_beside_the_link_not_its_target(conv, photo, tmp_path):
    (tmp_path / "target").mkdir()
    (tmp_path / "lnk").mkdir()
    real = _save(tmp_path / "target" / "photo.png", photo[:16, :16])
    (tmp_path / "lnk" / "link.png").symlink_to(real)
    (out,) = process_images(conv, [str(tmp_path / "lnk" / "link.png")], None)
    assert out == tmp_path / "lnk" / "link_out.png" and out.is_file()
    assert sorted(p.name for p in (tmp_path / "target").iterdir()) == ["photo.png"]
    both = process_images(conv, [str(real), str(tmp_path / "lnk" / "link.png")], str(tmp_path / "o"))
    assert [p.name for p in both] == ["photo.png"]                     # one real file: processed once


def test_an_animation_is_refused_from_its_header(conv, photo, tmp_path):
    frames = [Image.fromarray(photo[:16, :16] // (i + 1)) for i in range(4)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    with pytest.raises(UserError, match="a.gif has 4 frames; gan-app processes still images"):
        process_images(conv, [str(tmp_path / "a.gif")], str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def _full_disk(monkeypatch, when=lambda fp: True):
    """Image.save raises ENOSPC for the files `when` picks, as on a full disk."""
    import errno

    save = Image.Image.save

    def full(self, fp, *args, **kwargs):
        if when(Path(fp)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", full)


def test_a_full_disk_is_one_line_and_leaves_no_folder(conv, photo, tmp_path, monkeypatch):
    src = _save(tmp_path / "a.png", photo[:16, :16])
    _full_disk(monkeypatch)
    with pytest.raises(UserError, match=r"cannot write .*out/new/a\.png: No space left on device; free some space"):
        process_images(conv, [str(src)], str(tmp_path / "out" / "new"))
    assert not (tmp_path / "out").exists()   # both folders it made are gone again


def test_a_full_disk_during_the_compare_save_is_one_line(conv, photo, tmp_path, monkeypatch):
    src = _save(tmp_path / "a.png", photo[:16, :16])
    _full_disk(monkeypatch, when=lambda fp: "_compare" in fp.name)
    with pytest.raises(UserError, match=r"cannot write .*a_compare\.png: No space left on device"):
        process_images(conv, [str(src)], str(tmp_path / "out"), compare=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.png"]   # no temp file left


def test_an_uncreatable_output_folder_is_refused_before_any_work(conv, photo, tmp_path, monkeypatch):
    src = _save(tmp_path / "a.png", photo[:16, :16])
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    access = os.access  # root may write anywhere: make the folder read-only as a read-only mount would
    monkeypatch.setattr(os, "access", lambda path, mode: access(path, mode) and Path(path) != locked)
    with pytest.raises(UserError, match="output folder .*locked/sub cannot be made: .*locked is not writable"):
        process_images(conv, [str(src)], str(locked / "sub"))
