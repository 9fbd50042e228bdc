"""IDX files (the MNIST / Fashion-MNIST / KMNIST format), gzip-compressed or raw.

Format (LeCun's MNIST page): a 4-byte magic `0x00 0x00 <dtype> <ndim>`, then `ndim`
big-endian uint32 sizes, then the array in C order, big-endian. Hand-written because it is
a dozen lines and torchvision's reader is private API; numpy does the decoding.

`find_idx_split(folder, split)` locates the usual file names (`train-images-idx3-ubyte[.gz]`,
`t10k-labels-idx1-ubyte[.gz]`, ...) so one reader serves every MNIST-style set.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from ..errors import UserError

# IDX dtype byte -> big-endian numpy dtype
DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"
SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read IDX file {path}: {exc}") from None
    if raw[:2] == GZIP_MAGIC:  # decided by content, not by suffix: renamed files still work
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise UserError(f"{path} is a damaged gzip file ({exc}); download it again") from None
    return raw


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in IDX file `path` (native byte order, shape from the header).

    Raises UserError for a wrong magic number or a size that disagrees with the header.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in DTYPES or raw[3] == 0:
        raise UserError(f"{path} is not an IDX file (magic bytes {raw[:4].hex() or 'missing'}); "
                        "expected MNIST-style files such as train-images-idx3-ubyte.gz")
    dtype, ndim = np.dtype(DTYPES[raw[2]]), raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise UserError(f"{path}: IDX header is truncated")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise UserError(f"{path}: IDX header says {shape} ({expected} bytes) but the file holds "
                        f"{len(raw) - header} bytes of data; the file is truncated or damaged")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx")):  # also the dotted names some mirrors use
        if (folder / name).is_file():
            return folder / name
    return None


def has_idx_files(folder: str | Path) -> bool:
    """True when `folder` holds an MNIST-style training split."""
    folder = Path(folder)
    return folder.is_dir() and _find(folder, "train-images-idx3-ubyte") is not None


def find_idx_split(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(images (N, H, W) uint8, labels (N,) int64) of `split` ("train" or "test") in `folder`."""
    folder = Path(folder)
    if split not in SPLIT_PREFIX:
        raise ValueError(f"split must be one of {sorted(SPLIT_PREFIX)}, got {split!r}")
    prefix = SPLIT_PREFIX[split]
    images_path = _find(folder, f"{prefix}-images-idx3-ubyte")
    labels_path = _find(folder, f"{prefix}-labels-idx1-ubyte")
    if images_path is None or labels_path is None:
        raise UserError(f"{folder} lacks {prefix}-images-idx3-ubyte[.gz] / {prefix}-labels-idx1-ubyte[.gz] "
                        "(MNIST-style IDX files)")
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise UserError(f"{folder}: images {images.shape} and labels {labels.shape} do not pair up "
                        "(expected (N, H, W) and (N,))")
    return images.astype(np.uint8, copy=False), labels.astype(np.int64)
