"""Help text as written: click rewraps every help paragraph to the terminal width, which breaks
example lines with aligned comments; a paragraph that starts with a `\\b` line is kept as is."""

from __future__ import annotations


def verbatim(epilog: str | None) -> str | None:
    """`epilog` with each paragraph marked so click prints its lines unchanged."""
    if not epilog:
        return epilog
    return "\n\n".join(f"\b\n{part}" for part in epilog.strip("\n").split("\n\n"))
