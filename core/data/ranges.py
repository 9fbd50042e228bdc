"""Pixel ranges: uint8 images -> float tensors in [-1, 1] (the generators') or [0, 1] (photo heads).

Torch is imported inside the function so torch-free modules (class lists, the runtime path)
can import this one.
"""

from __future__ import annotations


def to_model_range(images_uint8):
    """uint8 (N, C, H, W) numpy array or tensor -> float32 tensor in [-1, 1]."""
    import torch

    return torch.as_tensor(images_uint8).float().div(127.5).sub(1.0)


def to_unit_tensor(image_uint8):
    """(H, W, C) uint8 numpy image -> float32 tensor (C, H, W) in [0, 1] (a copy: the input may be read-only)."""
    import numpy as np
    import torch

    return torch.from_numpy(np.array(image_uint8, copy=True)).permute(2, 0, 1).float() / 255.0
