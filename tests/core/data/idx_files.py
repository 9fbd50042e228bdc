"""`write_idx`: IDX files (the MNIST format) for test fixtures; the package only reads them (`gan_app.data.idx`).

Loaded by path (tests are not a package): `runpy.run_path(".../tests/core/data/idx_files.py")["write_idx"]`.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from gan_app.data.idx import DTYPES


def write_idx(path: str | Path, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write `array` as an IDX file (gzip when `compress`, default: when the name ends in .gz)."""
    path = Path(path)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in DTYPES.items()}
    native = np.dtype(array.dtype).newbyteorder("=")
    if native not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}; use one of {sorted(str(d) for d in codes)}")
    big = np.ascontiguousarray(array, dtype=native.newbyteorder(">"))
    data = bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, ">u4").tobytes() + big.tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path
