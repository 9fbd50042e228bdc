"""`gan-app run HEAD INPUT...`: generic image-to-image inference, with clear refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer
from PIL import Image
from typer.testing import CliRunner

from gan_app.apps.commands import register_run
from gan_app.errors import UserError


def _invoke(*args: str):
    """The `run` verb on its own app, so these tests do not depend on which heads are installed."""
    app = typer.Typer()
    app.callback()(lambda: None)
    register_run(app)
    return CliRunner().invoke(app, list(args))


def test_run_writes_outputs(exported, photo, tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("a.png", "b.png"):
        Image.fromarray(photo[:24, :32]).save(tmp_path / "in" / name)
    result = _invoke("run", "tiny", str(tmp_path / "in"), "--model", str(exported["sr"]), "-o", str(tmp_path / "out"), "--tile", "16")
    assert result.exit_code == 0, result.output
    assert [Path(line).name for line in result.output.split()] == ["a.png", "b.png"]
    assert np.asarray(Image.open(tmp_path / "out" / "a.png")).shape == (48, 64, 3)


def test_run_refuses_other_heads_and_non_image_models(exported, photo, tmp_path):
    Image.fromarray(photo[:24, :32]).save(tmp_path / "a.png")
    result = _invoke("run", "deblur", str(tmp_path / "a.png"), "--model", str(exported["conv"]))
    assert isinstance(result.exception, UserError) and "is a 'tiny' model, not 'deblur'" in str(result.exception)
    result = _invoke("run", "tiny", str(tmp_path / "a.png"), "--model", str(exported["cond"]))
    assert isinstance(result.exception, UserError)
    assert "takes z (latent), label (label), not just an image; use its own command" in str(result.exception)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_verbs_name_heads_and_outputs_follow_one_rule(photo, tmp_path):
    """`run` takes a head's verb too, and names outputs as the head's own verb does (input format kept)."""
    from gan_app.apps.cli import build_app

    src = tmp_path / "p.jpg"
    Image.fromarray(photo[:24, :32]).save(src)
    for args, name in ((["run", "upscale"], "p_x4.jpg"), (["upscale"], "p_x4.jpg"),
                       (["run", "deblur"], "p_deblurred.jpg"), (["deblur"], "p_deblurred.jpg")):
        result = CliRunner().invoke(build_app(), [*args, str(src), "--overwrite"])
        assert result.exit_code == 0, result.output
        assert result.output.strip() == str(tmp_path / name)
    assert Image.open(tmp_path / "p_x4.jpg").size == (128, 96)


def test_models_are_named_one_way_in_every_verb(photo, tmp_path):
    """`--model` takes a model's full or short name in every verb; a wrong one lists the head's models."""
    from gan_app.apps.cli import build_app

    src = tmp_path / "p.png"
    Image.fromarray(photo[:24, :32]).save(src)
    runner = CliRunner()
    listed = runner.invoke(build_app(), ["models"])
    assert listed.exit_code == 0 and "deblur-v1-camera" in listed.output and "superres-x2-psnr" in listed.output
    marks = {line.split()[1]: line.split()[3] for line in listed.output.splitlines() if line.startswith("deblur ")}
    assert marks["deblur-v1-camera"] == "routed" and marks["deblur-v2"] == "default"   # what --model auto picks among
    for args in (["deblur", "--model", "camera"], ["deblur", "--model", "deblur-v1-camera"],
                 ["run", "deblur", "--model", "camera"], ["upscale", "--model", "x2-psnr"]):
        result = runner.invoke(build_app(), [*args, str(src), "-o", str(tmp_path / "o.png"), "--overwrite"])
        assert result.exit_code == 0, (args, result.output)
    assert Image.open(tmp_path / "o.png").size == (64, 48)          # the last one upscaled x2
    wrong = runner.invoke(build_app(), ["deblur", "--model", "gan", str(src)])
    assert isinstance(wrong.exception, UserError) and "deblur-v1-camera" in str(wrong.exception)


def test_run_deblur_is_what_the_deblur_verb_does(photo, tmp_path):
    """`gan-app run deblur` without --model routes as `gan-app deblur` does (a JPEG to the camera model)."""
    from gan_app.apps.cli import build_app

    src = tmp_path / "shot.jpg"
    Image.fromarray(photo[:48, :64]).save(src, quality=85)
    runner = CliRunner()
    for args, out in ((["deblur"], "verb.png"), (["run", "deblur"], "run.png"),
                      (["run", "deblur", "--model", "deblur-v2"], "v2.png")):
        result = runner.invoke(build_app(), [*args, str(src), "-o", str(tmp_path / out)])
        assert result.exit_code == 0, (args, result.output)
    verb, run, v2 = (np.asarray(Image.open(tmp_path / name)) for name in ("verb.png", "run.png", "v2.png"))
    assert np.array_equal(verb, run) and not np.array_equal(verb, v2)
