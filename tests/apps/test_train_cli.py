"""`gan-app train`: --dry-run validates what training would before printing the config; --resume and --config."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gan_app.apps.cli import build_app
from gan_app.checkpoint import read_meta
from gan_app.discovery import discover_heads
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


def _train(*args):
    return CliRunner().invoke(build_app(), ["train", "toy", *args])


def test_resume_alone_continues_with_the_run_folders_config_and_names_what_changed(tmp_path):
    """`--resume` takes config.json from the run folder (nothing of the recipe is retyped); the train
    fields it changes are named in one line, a changed model field is refused with its name."""
    out = tmp_path / "run"
    first = _train("--recipe", "tiny", "--out", str(out), "--steps", "4", "--set", "model.width=16",
                   "--set", "train.ckpt_every=2", "--set", "train.sample_every=0")
    assert first.exit_code == 0, first.output
    resumed = _train("--resume", "--out", str(out), "--steps", "6")
    assert resumed.exit_code == 0, resumed.output
    assert "resuming with train.steps 4 -> 6\n" in resumed.stderr
    meta = read_meta(out / "checkpoints" / "step_000006.safetensors")
    assert meta["run"]["model"]["width"] == 16 and meta["run"]["train"]["ckpt_every"] == 2   # not the recipe's
    assert json.loads((out / "config.json").read_text())["train"]["steps"] == 6

    wider = _train("--resume", "--out", str(out), "--steps", "8", "--set", "model.width=20", "--set", "model.depth=3")
    assert isinstance(wider.exception, UserError), wider.output
    message = str(wider.exception)
    assert "model.width 16 -> 20, model.depth 2 -> 3" in message and "\n" not in message
    again = _train("--resume", "--recipe", "tiny", "--out", str(out), "--steps", "8")   # the recipe's width 32
    assert isinstance(again.exception, UserError) and "model.width 16 -> 32" in str(again.exception)


def test_resume_without_a_config_json_or_with_two_sources_is_one_line(tmp_path):
    missing = _train("--resume", "--out", str(tmp_path))
    assert isinstance(missing.exception, UserError) and "config.json not found" in str(missing.exception)
    both = _train("--recipe", "tiny", "--config", str(tmp_path / "c.json"), "--dry-run")
    assert isinstance(both.exception, UserError) and "pass one of them" in str(both.exception)


@pytest.mark.parametrize("head", sorted(n for n, e in discover_heads().items() if e.source == "builtin"))
def test_config_round_trips(head, tmp_path):
    """What --dry-run prints (the form of a run folder's config.json), read back by --config, is the same config."""
    runner = CliRunner()
    printed = runner.invoke(build_app(), ["train", head, "--recipe", "tiny", "--set", "train.steps=3", "--dry-run"])
    assert printed.exit_code == 0, printed.output
    stored = tmp_path / "config.json"
    stored.write_text(printed.stdout)
    again = runner.invoke(build_app(), ["train", head, "--config", str(stored), "--dry-run"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout) == json.loads(printed.stdout)
    other = next(n for n in ("toy", "deblur") if n != head)
    wrong = runner.invoke(build_app(), ["train", other, "--config", str(stored), "--dry-run"])
    assert isinstance(wrong.exception, UserError) and f"run config of head {head!r}" in str(wrong.exception)
