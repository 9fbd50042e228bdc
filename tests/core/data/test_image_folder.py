"""Labelled ImageFolder trees: labels follow sorted folder names; bad trees fail clearly."""

import numpy as np
import pytest
from PIL import Image

from gan_app.data.image_folder import load_image_folder
from gan_app.errors import UserError


def _save(path, value, size=(8, 8), mode="L"):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value).save(path)


def test_labels_follow_sorted_folders(tmp_path):
    _save(tmp_path / "zebra" / "a.png", 200)
    _save(tmp_path / "apple" / "b.png", 10)
    _save(tmp_path / "apple" / "c.png", 20)
    data = load_image_folder(tmp_path, channels=1, size=8)
    assert data.class_names == ("apple", "zebra")
    assert data.labels.tolist() == [0, 0, 1]
    assert data.images.shape == (3, 1, 8, 8) and data.images.dtype == np.uint8
    assert data.images[:, 0, 0, 0].tolist() == [10, 20, 200]
    assert data.notes == []


def test_mixed_sizes_are_resized_with_a_note(tmp_path):
    _save(tmp_path / "a" / "big.png", (255, 0, 0), size=(20, 12), mode="RGB")
    _save(tmp_path / "b" / "ok.png", (0, 255, 0), size=(8, 8), mode="RGB")
    data = load_image_folder(tmp_path, channels=3, size=8)
    assert data.images.shape == (2, 3, 8, 8)
    assert data.images[0, :, 4, 4].tolist() == [255, 0, 0]
    assert len(data.notes) == 1 and "resized 1 of 2" in data.notes[0] and "20x12" in data.notes[0]


def test_one_class_is_refused(tmp_path):
    _save(tmp_path / "only" / "a.png", 1)
    with pytest.raises(UserError, match="at least 2"):
        load_image_folder(tmp_path, 1, 8)


def test_empty_class_folder_is_named(tmp_path):
    _save(tmp_path / "full" / "a.png", 1)
    (tmp_path / "hollow").mkdir()
    with pytest.raises(UserError, match="hollow"):
        load_image_folder(tmp_path, 1, 8)
