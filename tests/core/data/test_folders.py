"""What a `--data` folder holds (`data_folder`): a paired layout, plain images, or a one-line UserError."""

import pytest
from PIL import Image

from gan_app.data.folders import data_folder
from gan_app.errors import UserError

EXPECTS = "a folder of photos or one with lo/ and hi/"


def _save(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4)).save(path)


def test_paired_layout_gives_its_pairs(tmp_path):
    _save(tmp_path / "lo" / "a.png"), _save(tmp_path / "hi" / "a.jpg"), _save(tmp_path / "hi" / "b.png")
    folder = data_folder(str(tmp_path), ("lo", "hi"), EXPECTS)
    assert folder.pairs == [(tmp_path / "lo" / "a.png", tmp_path / "hi" / "a.jpg")] and folder.images == []


def test_plain_folder_gives_its_images(tmp_path):
    _save(tmp_path / "b.png"), _save(tmp_path / "sub" / "a.png")
    folder = data_folder(str(tmp_path), ("lo", "hi"), EXPECTS)
    assert folder.pairs is None and folder.images == [tmp_path / "b.png", tmp_path / "sub" / "a.png"]


def test_missing_folder_and_no_images_say_what_data_takes(tmp_path):
    with pytest.raises(UserError, match=f"--data {tmp_path / 'missing'}: not a folder; pass {EXPECTS}$"):
        data_folder(str(tmp_path / "missing"), ("lo", "hi"), EXPECTS)
    (tmp_path / "notes.txt").write_text("no pictures here")
    with pytest.raises(UserError, match=f"--data {tmp_path}: no images found; pass {EXPECTS}$"):
        data_folder(str(tmp_path), ("lo", "hi"), EXPECTS)
