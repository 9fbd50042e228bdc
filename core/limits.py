"""Bounds on what a user may ask of this machine, checked before any work (one-line errors, no hangs)."""

from __future__ import annotations

import os

from gan_app.errors import UserError

DEFAULT_MAX_PIXELS = 64_000_000   # output pixels per image (--max-pixels); ~8 B/pixel: the 8/16-bit output + Pillow's copy to encode


def max_threads() -> int:
    """The most CPU threads a run may ask for: 4x the cores this process may use (oversubscription past that only hangs)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return 4 * cores


def check_threads(threads: int, option: str) -> None:
    """A UserError unless 1 <= `threads` <= max_threads()."""
    if not 1 <= threads <= max_threads():
        raise UserError(f"{option} must be between 1 and {max_threads()} (4x this machine's cores), got {threads}")
