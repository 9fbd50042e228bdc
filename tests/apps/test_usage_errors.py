"""A mistyped command line (#20): one `error:` line saying what is wrong and where the help is, exit 2,
for every command; click's three-line usage block is never printed, and --help is unchanged."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

cli = runpy.run_path(str(Path(__file__).parents[1] / "core" / "console.py"))["cli"]   # in-process `gan-app`


@pytest.mark.parametrize("args, message", [
    (["deblur", "x.png", "--tile", "abc"], "error: --tile: input should be a valid integer"),
    (["upscale", "x.png", "--max-pixels", "lots"], "error: --max-pixels: "),
    (["generate", "-n", "two"], "error: -n / --count: "),
    (["deblur", "x.png", "--tiel", "3"], "error: no such option: --tiel"),
    (["export", "deblur", "--checkpoint"], "error: option '--checkpoint' requires an argument"),
    (["run"], "error: missing argument 'head'"),
    (["heads", "extra"], "error: got unexpected extra argument(s) (extra)"),
    (["deblr", "x.png"], "error: no such command 'deblr'"),
])
def test_usage_errors_are_one_line(monkeypatch, capsys, args, message):
    result = cli(monkeypatch, capsys, *args)
    lines = result.err.strip().splitlines()
    assert result.code == 2 and len(lines) == 1 and lines[0].startswith(message), result
    command = args[0] if args[0] != "deblr" else None
    assert lines[0].endswith(f"; run gan-app {command} --help" if command else "; run gan-app --help"), lines
    assert "Usage:" not in result.err + result.out and "Traceback" not in result.err


def test_help_and_a_bare_command_are_unchanged(monkeypatch, capsys):
    shown = cli(monkeypatch, capsys, "deblur", "--help")
    assert shown.code == 0 and shown.out.startswith("Usage: gan-app deblur [OPTIONS]") and shown.err == ""
    bare = cli(monkeypatch, capsys)
    assert bare.code == 2 and bare.err.startswith("Usage: gan-app [OPTIONS] COMMAND [ARGS]...") and "deblur" in bare.err
    assert cli(monkeypatch, capsys, "--version").out.startswith("gan-app ")
