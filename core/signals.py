"""SIGTERM and SIGHUP behave like Ctrl-C: cleanup runs, then the process exits.

Python's default for these signals kills the process on the spot, so an atomic write leaves its
hidden `.part` file and a training run loses everything since its last checkpoint (schedulers
such as Slurm and Kubernetes stop jobs with SIGTERM). The CLI installs `raise_on_termination`:
the signal becomes a `Terminated` exception in the main thread, a KeyboardInterrupt subclass, so
every `finally` (temporary files) and the training loop's interrupt checkpoint run as for Ctrl-C.
"""

from __future__ import annotations

import signal

SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGTERM or SIGHUP."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum   # the shell's convention for "killed by signal N"


received: int | None = None   # the last signal turned into `Terminated` (click may re-wrap the exception)


def _raise(signum: int, frame) -> None:
    global received
    received = signum
    raise Terminated(signum)


def interrupt_exit() -> tuple[int, str]:
    """(exit code, message) for an interrupt reaching the CLI: 128 + N after signal N, else 130 (Ctrl-C)."""
    if received is not None:
        return 128 + received, f"terminated by {signal.Signals(received).name}"
    return 130, "interrupted"


def raise_on_termination() -> None:
    """Turn SIGTERM/SIGHUP into `Terminated` from now on (main thread only, as Python requires)."""
    for sig in SIGNALS:
        signal.signal(sig, _raise)
