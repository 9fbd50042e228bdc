"""IDX reader: byte-exact roundtrip with the fixtures' writer (gzip and raw, every dtype) and clear errors on bad files."""

import gzip
import runpy
from pathlib import Path

import numpy as np
import pytest

from gan_app.data.idx import find_idx_split, has_idx_files, read_idx
from gan_app.errors import UserError

write_idx = runpy.run_path(str(Path(__file__).with_name("idx_files.py")))["write_idx"]  # the fixtures' writer


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a-idx3-ubyte", "a-idx3-ubyte.gz"])
def test_roundtrip(tmp_path, dtype, name):
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 5, 7)) * 100).astype(dtype)
    path = write_idx(tmp_path / name, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.shape == (3, 5, 7)
    np.testing.assert_array_equal(back, array)


def test_header_layout_is_big_endian(tmp_path):
    path = write_idx(tmp_path / "l", np.array([1, 258], dtype=np.int32))
    assert path.read_bytes() == bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 2])


def test_gzip_detected_by_content_not_suffix(tmp_path):
    raw = write_idx(tmp_path / "raw", np.arange(6, dtype=np.uint8).reshape(2, 3))
    renamed = tmp_path / "renamed-no-gz"
    renamed.write_bytes(gzip.compress(raw.read_bytes()))
    np.testing.assert_array_equal(read_idx(renamed), np.arange(6).reshape(2, 3))


def test_wrong_magic_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(20))
    with pytest.raises(UserError, match="not an IDX file"):
        read_idx(bad)


def test_truncated_file_is_a_clear_error(tmp_path):
    path = write_idx(tmp_path / "t", np.zeros((4, 4), np.uint8))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(UserError, match="truncated"):
        read_idx(path)


def test_find_split_pairs_images_and_labels(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([3, 9], np.uint8))
    assert not has_idx_files(tmp_path)  # no training split yet
    x, y = find_idx_split(tmp_path, "test")
    np.testing.assert_array_equal(x, images)
    assert y.dtype == np.int64 and y.tolist() == [3, 9]
    with pytest.raises(UserError, match="train-images"):
        find_idx_split(tmp_path, "train")
