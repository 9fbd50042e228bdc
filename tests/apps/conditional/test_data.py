"""Data resolution and preprocessing of the conditional head (no real dataset needed)."""

import numpy as np
import pytest
from PIL import Image

from gan_app.apps.conditional import data as cdata
from gan_app.apps.conditional.data import ConditionalDataConfig, LabelledDataset, load_split
from gan_app.errors import UserError

from .conftest import make_idx_set


def test_idx_folder_is_centre_padded_exactly(tmp_path):
    folder = make_idx_set(tmp_path / "set", n_train=6, n_test=4, size=28)
    raw, _ = cdata.find_idx_split(folder, "train")
    data = load_split(ConditionalDataConfig(path=str(folder)), "train", 1, 32)
    assert data.images.shape == (6, 1, 32, 32) and data.class_names == ("0", "1")
    np.testing.assert_array_equal(data.images[:, 0, 2:30, 2:30], raw)
    assert data.images[:, :, :2].max() == 0 and data.images[:, :, :, 30:].max() == 0  # black border


def test_named_set_found_in_the_system_path(tmp_path, monkeypatch):
    make_idx_set(tmp_path / "fashion-mnist", n_train=4, n_test=2, size=28, classes=2)
    monkeypatch.setattr(cdata, "SYSTEM_ROOT", tmp_path)
    data = load_split(ConditionalDataConfig(path="Fashion-MNIST", limit=3), "test", 1, 32)
    assert len(data.labels) == 2 and data.class_names[7] == "Sneaker"


def test_missing_named_set_without_network_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setattr(cdata, "SYSTEM_ROOT", tmp_path / "none")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def offline(name):
        raise UserError(f"{name} is not on this machine and the download failed (URLError)")

    monkeypatch.setattr(cdata, "_download", offline)
    with pytest.raises(UserError, match="download failed"):
        load_split(ConditionalDataConfig(path="mnist"), "train", 1, 32)


def test_resize_and_grey_to_rgb(tmp_path):
    folder = make_idx_set(tmp_path / "set", n_train=4, n_test=2, size=12)
    data = load_split(ConditionalDataConfig(path=str(folder), fit="resize"), "train", 3, 8)
    assert data.images.shape == (4, 3, 8, 8)
    np.testing.assert_array_equal(data.images[:, 0], data.images[:, 2])


def test_image_folder_holds_out_every_tenth_image_per_class(tmp_path):
    for cls, value in (("cat", 30), ("dog", 200)):
        (tmp_path / cls).mkdir()
        for i in range(12):
            Image.new("L", (8, 8), value).save(tmp_path / cls / f"{i:02d}.png")
    train = load_split(ConditionalDataConfig(path=str(tmp_path)), "train", 1, 8)
    test = load_split(ConditionalDataConfig(path=str(tmp_path)), "test", 1, 8)
    assert (len(train.labels), len(test.labels)) == (22, 2) and test.labels.tolist() == [0, 1]
    item = LabelledDataset(train)[0]
    assert item["image"].shape == (1, 8, 8) and float(item["image"].min()) == pytest.approx(30 / 127.5 - 1)
    assert item["label"].dtype.is_floating_point is False


def test_unknown_path_is_refused(tmp_path):
    with pytest.raises(UserError, match="neither a named set"):
        load_split(ConditionalDataConfig(path=str(tmp_path / "missing")), "train", 1, 8)


def test_head_checks_the_class_count_against_the_data(idx_dir):
    from gan_app.apps.conditional.head import HEAD

    run = HEAD.recipe("tiny")
    run.data.path, run.model.num_classes = str(idx_dir), 3
    with pytest.raises(UserError, match="num_classes=2"):
        HEAD.complete_model(run, HEAD.dataset(run, "train"))


def test_generated_shapes_are_labelled_by_their_geometry():
    from gan_app.apps.conditional.shapes import SHAPES

    data = load_split(ConditionalDataConfig(path="class-shapes"), "test", 1, 16)
    assert data.class_names == SHAPES and data.images.shape == (400, 1, 16, 16)
    area = (data.images[:, 0] > 0).sum(axis=(1, 2))  # (N,)
    by_class = [area[data.labels == c].mean() for c in range(4)]
    # same size range: a square covers more than its inscribed disc, a bar a third of the square
    assert by_class[0] > by_class[1] > by_class[3] > by_class[2]
    train = load_split(ConditionalDataConfig(path="class-shapes"), "train", 1, 16)
    assert not np.array_equal(train.images[:400], data.images)  # different seeds per split
    old_name = load_split(ConditionalDataConfig(path="shapes"), "test", 1, 16)   # configs stored before the rename
    assert np.array_equal(old_name.images, data.images)


def test_tiny_recipe_runs_on_generated_data():
    from gan_app.apps.conditional.head import HEAD

    run = HEAD.recipe("tiny")
    dataset = HEAD.dataset(run, "train")
    assert len(dataset) == 64 and run.model.class_names == ()  # the data leaves the config alone ...
    model = HEAD.complete_model(run, dataset)                  # ... and completes it before the build
    assert model.class_names == ("square", "disc", "bar", "cross") and model.num_classes == run.model.num_classes
    run.model = model
    assert HEAD.complete_model(run, dataset) == model          # a complete config comes back unchanged
