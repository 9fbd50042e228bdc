"""Geometric self-ensemble (`--ensemble`): the eight dihedral transforms, the averaged model, the option."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import gan_app
from gan_app.errors import UserError
from gan_app.runtime.ensemble import CHOICES, ensembled, parse_ensemble, transform, undo
from gan_app.runtime.session import load_model


def test_the_eight_transforms_are_distinct_and_undone():
    batch = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)   # not square: a swap shows
    seen = []
    for k in range(8):
        moved = transform(batch, k)
        assert moved.shape == ((2, 3, 5, 4) if k & 4 else batch.shape)
        np.testing.assert_array_equal(undo(moved, k), batch)
        seen.append(moved.tobytes() + bytes(moved.shape))
    assert len(set(seen)) == 8


@pytest.mark.parametrize("n", CHOICES[1:])
def test_the_first_n_transforms_are_a_group(n):
    """Every prefix used is closed under composition, so the ensemble of an image and of its mirror agree."""
    image = np.random.default_rng(0).random((1, 1, 6, 6)).astype(np.float32)
    found = {transform(image, k).tobytes() for k in range(n)}
    for a in range(n):
        for b in range(n):
            assert transform(transform(image, a), b).tobytes() in found


def test_ensemble_is_the_mean_of_the_transformed_runs(exported, photo):
    """A real (not equivariant) conv net on a non-square batch: ensemble N equals the hand-made mean over N transformed
    runs, and differs from one run."""
    model = load_model(exported["conv"], threads=1)
    name = model.image_input()
    batch = (photo[None, :16, :24].transpose(0, 3, 1, 2).astype(np.float32) / 127.5 - 1.0)   # (1, 3, 16, 24)
    one = model.run({name: batch})
    for n in CHOICES[1:]:
        by_hand = np.mean([undo(model.run({name: transform(batch, k)}), k) for k in range(n)], axis=0)
        averaged = ensembled(model, n).run({name: batch})
        np.testing.assert_allclose(averaged, by_hand, atol=1e-6)
        assert np.abs(averaged - one).max() > 1e-3
    assert ensembled(model, 1) is model


def test_api_and_tiling_with_an_ensemble(exported, photo):
    conv = gan_app.load(exported["conv"], threads=1)
    eight = conv.with_ensemble(8)
    image = photo                                                            # (96, 128, 3)
    whole, tiled = eight.process(image, tile=0), eight.process(image, tile=48)
    assert whole.shape == tiled.shape == (96, 128, 3)
    assert np.abs(whole.astype(int) - tiled.astype(int)).mean() < 0.5       # seamless, as one run is
    assert np.abs(whole.astype(int) - conv(image).astype(int)).max() > 2     # and not the single run
    assert "ensemble=8" in repr(eight)
    sr = gan_app.load(exported["sr"], threads=1).with_ensemble(4)
    assert sr(image[:40, :56]).shape == (80, 112, 3)


@pytest.mark.parametrize("bad", ["3", "0", "-1", "eight", "", "2.0"])
def test_bad_values_are_one_line_errors(bad):
    with pytest.raises(UserError, match="--ensemble must be one of 1, 2, 4, 8") as info:
        parse_ensemble(bad)
    assert "\n" not in str(info.value)


def test_every_image_verb_takes_the_option(exported, photo, tmp_path):
    from typer.testing import CliRunner

    from gan_app.apps.cli import build_app

    src = tmp_path / "a.png"
    Image.fromarray(photo[:24, :32]).save(src)
    app, runner = build_app(), CliRunner()
    result = runner.invoke(app, ["run", "tiny", str(src), "--model", str(exported["conv"]), "--ensemble", "4",
                                 "-o", str(tmp_path / "four.png")])
    assert result.exit_code == 0, result.output
    plain = gan_app.load(exported["conv"], threads=1).with_ensemble(4)(photo[:24, :32])
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "four.png")), plain)
    for verb in (["deblur"], ["upscale"], ["run", "tiny"]):
        result = runner.invoke(app, verb + [str(src), "--ensemble", "3", "-o", str(tmp_path / "x.png")])
        assert result.exit_code != 0 and isinstance(result.exception, UserError), (verb, result.output)
        assert "--ensemble must be one of" in str(result.exception)
        assert not (tmp_path / "x.png").exists()
