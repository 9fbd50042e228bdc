"""`gan-app deblur` on the shipped ONNX model: real output, clear one-line errors, user data kept."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_app.apps.deblur.head import EXAMPLE
from gan_app.paths import shipped_blur_estimator, shipped_model

pytestmark = pytest.mark.skipif(not shipped_model("deblur").is_file(), reason="no shipped deblur weights")


def gan_app(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "gan_app.apps.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_example_writes_output_and_compare_keeping_mode_and_size(tmp_path):
    out = tmp_path / "clock.png"
    res = gan_app("deblur", "--example", "-o", str(out), "--compare")
    assert res.returncode == 0, res.stderr
    before = Image.open(EXAMPLE)
    after = Image.open(out)
    assert after.size == before.size and after.mode == before.mode == "L"
    diff = np.abs(np.asarray(after, np.int16) - np.asarray(before, np.int16))
    assert 0 < diff.mean() < 20                         # the model changed the photo, and did not wreck it
    compare = Image.open(tmp_path / "clock_compare.png")
    assert compare.width >= 2 * before.width


@pytest.mark.parametrize("content", [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20])
def test_bad_files_give_one_line_errors_and_no_output(tmp_path, content):
    bad = tmp_path / "bad.png"
    bad.write_bytes(content)
    res = gan_app("deblur", str(bad), "-o", str(tmp_path / "out.png"))
    assert res.returncode != 0
    assert res.stderr.strip().startswith("error:") and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr and not (tmp_path / "out.png").exists()


def test_existing_output_is_not_overwritten(tmp_path):
    src, out = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray((np.random.default_rng(0).random((32, 40, 3)) * 255).astype(np.uint8)).save(src)
    out.write_bytes(b"user data")
    res = gan_app("deblur", str(src), "-o", str(out))
    assert res.returncode != 0 and "--overwrite" in res.stderr
    assert out.read_bytes() == b"user data"
    assert gan_app("deblur", str(src), "-o", str(out), "--overwrite").returncode == 0
    assert Image.open(out).size == (40, 32)


def test_no_input_is_a_clear_error():
    res = gan_app("deblur")
    assert res.returncode != 0 and "no input" in res.stderr


@pytest.mark.parametrize("value", ["3", "automatic", "-2"])
def test_bad_blur_scale_is_a_one_line_error(tmp_path, value):
    res = gan_app("deblur", "--example", "-o", str(tmp_path / "o.png"), "--blur-scale", value)
    assert res.returncode != 0 and len(res.stderr.strip().splitlines()) == 1
    assert "--blur-scale must be auto or one of 1, 2, 4" in res.stderr and not (tmp_path / "o.png").exists()


@pytest.mark.skipif(not shipped_blur_estimator().is_file(), reason="no shipped blur-extent estimator")
def test_blur_scale_auto_runs_at_the_level_it_estimates(tmp_path):
    from gan_app import load

    grey = np.asarray(Image.open(EXAMPLE))
    level = load("deblur").resolve_level(np.repeat(grey[None], 3, axis=0), "auto")
    auto, fixed = tmp_path / "auto.png", tmp_path / "fixed.png"
    res = gan_app("deblur", "--example", "-o", str(auto), "--blur-scale", "AUTO")
    assert res.returncode == 0, res.stderr
    assert gan_app("deblur", "--example", "-o", str(fixed), "--blur-scale", str(level)).returncode == 0
    assert np.array_equal(np.asarray(Image.open(auto)), np.asarray(Image.open(fixed)))


def test_blur_scale_two_deblurs_at_half_size_and_keeps_the_size(tmp_path):
    full, half = tmp_path / "full.png", tmp_path / "half.png"
    assert gan_app("deblur", "--example", "-o", str(full)).returncode == 0
    res = gan_app("deblur", "--example", "-o", str(half), "--blur-scale", "2")
    assert res.returncode == 0, res.stderr
    a, b = (np.asarray(Image.open(p), np.float32) for p in (full, half))
    assert a.shape == b.shape and np.abs(a - b).mean() > 0.1          # a different restoration, same size


def test_another_heads_model_is_refused(tmp_path):
    superres = shipped_model("superres-x4-psnr")
    if not superres.is_file():
        pytest.skip("no shipped superres weights")
    res = gan_app("deblur", "--example", "-o", str(tmp_path / "o.png"), "--model", str(superres))
    assert res.returncode != 0 and "is a 'superres' model, not a deblur one" in res.stderr
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("value", ["fast", "10", "0,30"])
def test_bad_motion_is_a_one_line_error(tmp_path, value):
    res = gan_app("deblur", "--example", "-o", str(tmp_path / "o.png"), "--motion", value)
    assert res.returncode != 0 and len(res.stderr.strip().splitlines()) == 1
    assert "--motion" in res.stderr and "Traceback" not in res.stderr and not (tmp_path / "o.png").exists()


def test_motion_given_by_hand_changes_the_output_and_off_does_not(tmp_path):
    plain, off, given = tmp_path / "plain.png", tmp_path / "off.png", tmp_path / "given.png"
    assert gan_app("deblur", "--example", "-o", str(plain)).returncode == 0
    assert gan_app("deblur", "--example", "-o", str(off), "--motion", "off").returncode == 0
    res = gan_app("deblur", "--example", "-o", str(given), "--motion", "35,2")
    assert res.returncode == 0, res.stderr
    a, b, c = (np.asarray(Image.open(p), np.float32) for p in (plain, off, given))
    assert np.array_equal(a, b) and a.shape == c.shape and np.abs(a - c).mean() > 1.0
