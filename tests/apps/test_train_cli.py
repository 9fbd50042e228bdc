"""`gan-app train --dry-run` validates what training would, before printing the config."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gan_app.apps.cli import build_app
from gan_app.errors import UserError


@pytest.mark.parametrize("args, message", [
    (["--set", "train.loss=wgangp"], "unknown adversarial loss 'wgangp'"),
    (["--set", "train.amp=fp8"], "unknown amp mode 'fp8'"),
    (["--device", "tpu"], "unknown device 'tpu'"),
    (["--set", "train.amp=fp16", "--device", "cpu"], "amp fp16 needs a CUDA GPU"),
    (["--set", "model.generator=nosuch"], "model.generator"),
    (["--set", "train.decay_start=99", "--set", "train.lr_schedule=linear"], "decay_start"),
])
def test_dry_run_refuses_what_fit_would(args, message):
    result = CliRunner().invoke(build_app(), ["train", "deblur", "--recipe", "tiny", *args, "--dry-run"])
    assert isinstance(result.exception, UserError) and message in str(result.exception), result.output
    assert "{" not in result.output           # nothing printed as if it were a valid config


def test_dry_run_prints_the_resolved_config():
    result = CliRunner().invoke(build_app(), ["train", "deblur", "--recipe", "tiny", "--steps", "7", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["train"]["steps"] == 7


def test_a_built_in_set_name_that_is_also_a_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    runner = CliRunner()
    ambiguous = runner.invoke(build_app(), ["train", "deblur", "--recipe", "tiny", "--data", "photos", "--dry-run"])
    assert isinstance(ambiguous.exception, UserError) and "builtin:photos" in str(ambiguous.exception)
    for data, path in (("builtin:photos", "photos"), ("./photos", "./photos")):
        result = runner.invoke(build_app(), ["train", "deblur", "--recipe", "tiny", "--data", data, "--dry-run"])
        assert result.exit_code == 0 and json.loads(result.output)["data"]["path"] == path, result.output
    unknown = runner.invoke(build_app(), ["train", "superres", "--recipe", "tiny", "--data", "builtin:shapes", "--dry-run"])
    assert isinstance(unknown.exception, UserError) and "built-in: photos" in str(unknown.exception)


def test_shared_options_have_one_spelling():
    """`--threads` and `--count`/`-n` and `--out` mean the same wherever they appear."""
    runner = CliRunner()
    result = runner.invoke(build_app(), ["train", "deblur", "--recipe", "tiny", "--threads", "1", "--dry-run"])
    assert result.exit_code == 0 and json.loads(result.output)["train"]["cpu_threads"] == 1
    for verb in ("generate", "text2img"):
        assert "-n, --count" in runner.invoke(build_app(), [verb, "--help"]).output
    assert "--out, --run-dir" in runner.invoke(build_app(), ["toy", "--help"]).output
    tile_help = {runner.invoke(build_app(), [*verb, "--help"], terminal_width=200).output.split("--tile <int>")[1].split("\n")[0].strip()
                 for verb in (["deblur"], ["upscale"], ["run"])}
    assert len(tile_help) == 1, tile_help
