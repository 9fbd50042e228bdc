"""File helpers shared by export and the runtime: atomic writes and content hashes.

An output is written to a temporary file in the destination folder and moved into
place with `os.replace` only once complete, so an interrupted run or a failed check
never leaves a partial or wrong file under the final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from gan_app.errors import UserError


@contextlib.contextmanager
def atomic_output(dest: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; on success it replaces `dest`, on error it is removed.

    `overwrite=False` refuses an existing `dest` before any work is done.
    """
    dest = Path(dest)
    if not overwrite and dest.exists():
        raise UserError(f"{dest} already exists; pass --overwrite to replace it")
    folder = dest.parent if str(dest.parent) else Path(".")
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise UserError(f"cannot write to folder {folder} ({exc.strerror}); choose a writable output") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file ordinary permissions
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
