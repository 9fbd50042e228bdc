"""Every command's --help: flags shown bare (no `<bool>`), examples printed line by line as written."""

from __future__ import annotations

from typer.testing import CliRunner

from gan_app.apps.cli import build_app


def _commands() -> list[str]:
    import typer

    return sorted(c.name for c in typer.main.get_command(build_app()).commands.values())


def test_help_renders_flags_bare_and_keeps_example_lines():
    runner = CliRunner()
    names = _commands()
    assert {"train", "run", "export", "deblur", "upscale", "generate", "text2img"} <= set(names)
    for name in ["", *names]:
        out = runner.invoke(build_app(), [*([name] if name else []), "--help"], terminal_width=80).output
        assert "Usage:" in out and "<bool>" not in out, (name, out)
        assert "--help  " in out or "--help\n" in out or "--help " in out
    deblur = runner.invoke(build_app(), ["deblur", "--help"], terminal_width=80).output
    assert "gan-app deblur photo.jpg                      # writes photo_deblurred.jpg (the input's format)" in deblur
    assert "  --compare            Also write" in deblur     # a flag: no type column
    train = runner.invoke(build_app(), ["train", "--help"], terminal_width=80).output
    assert "--resume  " in train and "--set <list[str]>" in train
