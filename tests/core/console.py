"""`cli(monkeypatch, capsys, *args)`: `gan-app ARGS` through the console entry point, in-process, as a
plain `gan-app` process shows it (Python warnings on stderr, not recorded by pytest). Shared by the
fuzz and no-pickle suites; loaded by path (tests are not a package)."""

from __future__ import annotations

import signal
import sys
import warnings
from typing import NamedTuple

from gan_app.apps.cli import main
from gan_app.signals import SIGNALS


class Outcome(NamedTuple):
    code: int
    out: str
    err: str


def _console_warnings() -> None:
    """The warning filters and display of a plain `gan-app` process (pytest records warnings instead)."""
    warnings.resetwarnings()
    warnings.simplefilter("default")
    for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
        warnings.simplefilter("ignore", category)
    warnings.showwarning = lambda message, category, filename, lineno, file=None, line=None: sys.stderr.write(
        warnings.formatwarning(message, category, filename, lineno, line))


def cli(monkeypatch, capsys, *args) -> Outcome:
    """(exit code, stdout, stderr); an exception other than SystemExit escapes (a bug)."""
    capsys.readouterr()
    handlers = {s: signal.getsignal(s) for s in SIGNALS}   # main() installs its SIGTERM/SIGHUP handlers
    code = 0
    try:
        with monkeypatch.context() as m, warnings.catch_warnings():
            _console_warnings()
            m.setattr("sys.argv", ["gan-app", *map(str, args)])
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
    captured = capsys.readouterr()
    return Outcome(code, captured.out, captured.err)
