"""Latent draws of the sampling verbs: seeded, optionally truncated (BigGAN's trick), checked; the grid they save."""

import errno
import os

import numpy as np
import pytest

from gan_app.errors import UserError
from gan_app.runtime.sampling import check_grid_output, check_truncation, latents, normal_latents, save_grid


def test_untruncated_draw_is_numpys_standard_normal():
    z = normal_latents(np.random.default_rng(3), (5, 7))
    assert z.dtype == np.float32
    np.testing.assert_array_equal(z, np.random.default_rng(3).standard_normal((5, 7)).astype(np.float32))


@pytest.mark.parametrize("t", [0.5, 1.0, 2.0])
def test_truncation_bounds_every_entry_and_keeps_the_in_range_draws(t):
    z = normal_latents(np.random.default_rng(0), (400, 64), t)
    plain = np.random.default_rng(0).standard_normal((400, 64)).astype(np.float32)
    assert np.abs(z).max() <= t
    inside = np.abs(plain) <= t
    np.testing.assert_array_equal(z[inside], plain[inside])        # only the tails are redrawn
    assert not np.array_equal(z[~inside], plain[~inside])
    expected_std = {0.5: 0.2838, 1.0: 0.5396, 2.0: 0.8796}[t]      # std of N(0,1) truncated to [-t, t]
    assert z.std() == pytest.approx(expected_std, rel=0.03)
    np.testing.assert_array_equal(z, normal_latents(np.random.default_rng(0), (400, 64), t))  # seeded


def test_walk_ends_are_truncated_too():
    walk = latents(6, 32, seed=4, interpolate=True, truncation=1.0)
    assert walk.shape == (6, 32)
    np.testing.assert_allclose(walk[0], normal_latents(np.random.default_rng(4), (32,), 1.0), atol=1e-6)
    assert np.abs(walk[[0, -1]]).max() <= 1.0


@pytest.mark.parametrize("bad", [-1.0, 0.05, float("nan")])
def test_bad_truncation_is_a_user_error(bad):
    with pytest.raises(UserError, match="--truncation must be 0"):
        check_truncation(bad)
    with pytest.raises(UserError, match="--truncation must be 0"):
        normal_latents(np.random.default_rng(0), (2, 2), bad)


def test_a_folder_named_as_the_output_is_refused_even_with_overwrite(tmp_path):
    (tmp_path / "grid.png").mkdir()
    with pytest.raises(UserError, match="grid.png is an existing folder; name the picture to write"):
        check_grid_output(tmp_path / "grid.png", 1, overwrite=True)
    with pytest.raises(UserError, match="grid.png is an existing folder"):
        save_grid(np.zeros((1, 4, 4, 3), np.uint8), 1, 1, tmp_path / "grid.png", overwrite=True)


def test_a_full_disk_or_read_only_folder_is_one_line_and_leaves_no_folder(tmp_path, monkeypatch):
    images = np.zeros((2, 4, 4, 1), np.uint8)
    replace = os.replace
    for code, advice in ((errno.ENOSPC, "free some space"), (errno.EROFS, "choose an output on a writable disk")):
        def refuse(src, dst, code=code):
            raise OSError(code, os.strerror(code))

        monkeypatch.setattr(os, "replace", refuse)
        with pytest.raises(UserError, match=f"cannot write .*new/grid.png: {os.strerror(code)}; {advice}"):
            save_grid(images, 2, 1, tmp_path / "new" / "grid.png", overwrite=False)
        assert list(tmp_path.iterdir()) == []   # no temp file, no empty folder
    monkeypatch.setattr(os, "replace", replace)
    save_grid(images, 2, 1, tmp_path / "new" / "grid.png", overwrite=False)
    assert (tmp_path / "new" / "grid.png").is_file()
