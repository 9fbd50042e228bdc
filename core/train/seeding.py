"""Reproducibility: every random stream of a run is a function of (seed, rank, step).

The engine seeds torch, `random` and NumPy with `seed` before building the models (so all
ranks start from the same weights), then reseeds them at the start of every generator
step from (seed, rank, step). A resumed run therefore draws exactly the numbers the
uninterrupted run drew, on every rank, without storing per-rank generator states in the
checkpoint; the checkpoint's `rng` entry records this derivation instead.
"""

from __future__ import annotations

import random

import numpy as np
import torch

RNG_SCHEME = "torch/random/numpy reseeded at every generator step from SeedSequence([seed, rank, step])"


def derive_seed(*parts: int) -> int:
    """A well-mixed 63-bit seed from non-negative integers (NumPy's SeedSequence hashing)."""
    return int(np.random.SeedSequence(list(parts)).generate_state(1, dtype=np.uint64)[0]) >> 1


def seed_all(seed: int, device: torch.device | None = None) -> None:
    """Seed torch, Python's `random` and NumPy's global generator.

    With `device`, only the CPU generator and that device's are seeded: torch.manual_seed
    visits every backend and costs ~0.3 ms, too much to pay on every step of a tiny model.
    """
    if device is None:
        torch.manual_seed(seed)
    else:
        torch.default_generator.manual_seed(seed)
        if device.type == "cuda":
            torch.cuda.manual_seed(seed)  # the current device, which `distributed.setup` set
        elif device.type == "mps":
            torch.mps.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def seed_step(seed: int, rank: int, step: int, device: torch.device) -> None:
    """Seed every stream `device` uses for generator step `step` of process `rank`."""
    seed_all(derive_seed(seed, rank, step), device)
