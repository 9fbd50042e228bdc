"""The generators' pixel range: uint8 images -> float tensors in [-1, 1].

Torch is imported inside the function so torch-free modules (class lists, the runtime path)
can import this one.
"""

from __future__ import annotations


def to_model_range(images_uint8):
    """uint8 (N, C, H, W) numpy array or tensor -> float32 tensor in [-1, 1]."""
    import torch

    return torch.as_tensor(images_uint8).float().div(127.5).sub(1.0)
