"""Generic CLI verbs beyond `train`: each is added only once its engine exists."""

from __future__ import annotations

from typing import Callable


def registrars() -> list[Callable]:
    """Functions that add a command to the typer app (export, eval, run)."""
    return []
