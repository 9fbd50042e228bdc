"""File helpers shared by export, training and the runtime: atomic writes, write errors, content hashes.

An output is written to a temporary file in the destination folder and moved into
place with `os.replace` only once complete, so an interrupted run or a failed check
never leaves a partial or wrong file under the final name. A write the system refuses
(full disk, read-only mount, no permission) is a one-line `UserError` naming the
destination, not a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

from gan_app.errors import UserError

_ADVICE = {   # errno -> what the user can do about it
    errno.ENOSPC: "free some space or choose another output",
    errno.EDQUOT: "free some space or choose another output",
    errno.EROFS: "choose an output on a writable disk",
    errno.EACCES: "choose a writable output",
    errno.EPERM: "choose a writable output",
}


@contextlib.contextmanager
def writing(dest: Path) -> Iterator[None]:
    """Turn a system error (an OSError with an errno) raised inside the block into a one-line UserError
    naming `dest`, the file or folder being written. OSErrors without an errno (Pillow's "cannot write
    mode RGBA as JPEG") are the caller's to explain and pass through."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None:
            raise
        raise UserError(f"cannot write {dest}: {exc.strerror or exc}; {_ADVICE.get(exc.errno, 'choose another output')}") from None


@contextlib.contextmanager
def atomic_output(dest: Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside `dest`; on success it replaces `dest`, on error it is removed.

    `overwrite=False` refuses an existing `dest` before any work is done; a folder named `dest`
    is refused either way (it cannot be replaced by a file). System errors while writing (see
    `writing`) are one-line UserErrors naming `dest`.
    """
    dest = Path(dest)
    if dest.is_dir():
        raise UserError(f"output {dest} is an existing folder, which a file cannot replace; choose another output name")
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
        with writing(dest):
            yield tmp
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file ordinary permissions
            os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def check_folder(folder: Path, option: str) -> None:
    """A UserError unless `folder` is a writable folder or can be made in one (its nearest existing
    ancestor is a writable folder), before any work; `option` is the flag that names it. Creates nothing."""
    folder = Path(folder)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        problem = "exists and is not a folder" if existing == folder else f"cannot be made: {existing} is not a folder"
    elif not os.access(existing, os.W_OK):
        problem = "is not writable" if existing == folder else f"cannot be made: {existing} is not writable"
    else:
        return
    raise UserError(f"output folder {folder} {problem}; choose another {option}")


@contextlib.contextmanager
def output_folders(folders: Iterable[Path]) -> Iterator[None]:
    """Create `folders` (and their missing parents) for the block; when the block fails, the ones created
    here that are still empty are removed again, so a failed run leaves no empty folder behind."""
    created: list[Path] = []
    try:
        for folder in folders:
            created.extend(reversed([p for p in (folder, *folder.parents) if not p.exists()]))
            with writing(folder):
                folder.mkdir(parents=True, exist_ok=True)
        yield
    except BaseException:
        for folder in reversed(created):
            with contextlib.suppress(OSError):   # not empty (an output was written), or never made
                folder.rmdir()
        raise


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
