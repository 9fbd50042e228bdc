"""The offline photo set: missing sources are named, an empty set is a clear error."""

import pytest

from gan_app.data import photos
from gan_app.errors import UserError


def test_missing_source_is_named_with_its_install_command(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(photos, "OPENCV_DATA", tmp_path)           # no opencv-doc photos there
    monkeypatch.setattr(photos, "_skimage", lambda name: None if name == "coffee" else photos.np.zeros((130, 140)))
    held_out = photos.offline_photos("held_out")
    err = capsys.readouterr().err
    # held-out: coffee (skimage, gone), rocket + grass (skimage, here), flower.jpg (sklearn), 4 opencv photos (gone)
    assert "rocket" in dict(held_out) and "coffee" not in dict(held_out)
    assert "5 offline held_out photos unavailable" in err
    assert "apt-get install -y opencv-doc (4)" in err and "pip install scikit-image (1)" in err
    assert all(img.shape[2] == 3 and img.dtype == photos.np.uint8 for _, img in held_out)


def test_complete_set_prints_nothing(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(photos, "OPENCV_PHOTOS", ())
    monkeypatch.setattr(photos, "_skimage", lambda name: photos.np.zeros((130, 140, 3), photos.np.uint8))
    monkeypatch.setattr(photos, "_sklearn", lambda name: photos.np.zeros((130, 140, 3), photos.np.uint8))
    assert len(photos.offline_photos("train")) == len(photos.SKIMAGE_PHOTOS) + len(photos.SKLEARN_PHOTOS) - 4
    assert capsys.readouterr().err == ""


def test_training_photos_without_any_source_is_a_user_error(monkeypatch, tmp_path):
    monkeypatch.setattr(photos, "OPENCV_DATA", tmp_path)
    monkeypatch.setattr(photos, "_skimage", lambda name: None)
    monkeypatch.setattr(photos, "_sklearn", lambda name: None)
    with pytest.raises(UserError, match="no offline photos found"):
        photos.training_photos()


def test_wallpaper_photos_take_the_largest_size_at_each_scale_and_name_missing_packages(monkeypatch, tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "Pier" / "contents" / "images"
    folder.mkdir(parents=True)
    for w, h in ((64, 48), (240, 120)):                       # plasma layout: several sizes, take the largest
        Image.new("RGB", (w, h), (200, 10, 10)).save(folder / f"{w}x{h}.png")
    Image.new("RGB", (96, 96)).save(tmp_path / "Sea.jpg")
    monkeypatch.setattr(photos, "WALLPAPERS", [("plasma-workspace-wallpapers", tmp_path, "Pier"),
                                               ("lomiri-wallpapers", tmp_path, "Sea.jpg"),
                                               ("lomiri-wallpapers", tmp_path, "Gone.jpg")])
    found = dict(photos.wallpaper_photos(factors=(2, 4)))
    assert sorted(found) == ["Pier@2", "Pier@4", "Sea.jpg@2", "Sea.jpg@4"]
    assert found["Pier@2"].shape == (60, 120, 3) and found["Pier@4"].shape == (30, 60, 3)
    assert "apt-get install -y lomiri-wallpapers (1)" in capsys.readouterr().err
