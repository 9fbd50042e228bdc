"""Device choice, mixed precision and the CUDA-only speed switches of the training engine.

Mixed precision follows the PyTorch AMP recipe for several models and optimizers with ONE
`torch.amp.GradScaler`: each player's loss is scaled and backpropagated on its own, its
optimizer stepped through the scaler, and `scaler.update()` called after that step. The
PyTorch docs call `update()` once per iteration after every optimizer used in it has
stepped; a GAN iteration is sequential (the G loss is computed through the *updated* D,
and with `n_critic > 1` D steps several times, which the scaler allows only once between
updates), so each scaled backward + step pair is its own AMP iteration here. An overflow
in D's gradients therefore skips D's step and lowers the shared scale before G's backward.

fp16 is only used on CUDA. With fp16 the R1/GP input gradients are taken on unscaled
logits (they may underflow); `auto` picks bf16 wherever the GPU supports it, which needs
no scaler at all.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from gan_app.errors import UserError

DEVICES = ("auto", "cuda", "mps", "cpu")
AMP_MODES = ("auto", "bf16", "fp16", "off")


def pick_device(name: str = "auto", local_rank: int = 0) -> torch.device:
    """`auto`: CUDA, then MPS, then CPU; a forced device that is missing is a UserError.

    Under torchrun each process takes the GPU numbered by its LOCAL_RANK.
    """
    if name not in DEVICES:
        raise UserError(f"unknown device {name!r}; choose one of: {', '.join(DEVICES)}")
    cuda = torch.cuda.is_available()
    mps = torch.backends.mps.is_available()
    if name == "auto":
        name = "cuda" if cuda else "mps" if mps else "cpu"
    if name == "cuda" and not cuda:
        raise UserError("--device cuda: no CUDA GPU is visible to PyTorch; use --device auto or cpu")
    if name == "mps" and not mps:
        raise UserError("--device mps: Apple MPS is not available here; use --device auto or cpu")
    return torch.device("cuda", local_rank) if name == "cuda" else torch.device(name)


def resolve_amp(mode: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for `mode` on `device`, or None for full fp32.

    auto: bf16 on CUDA GPUs that support it, else fp16 on CUDA, off elsewhere.
    bf16 is allowed on CPU when asked for explicitly; fp16 never runs on CPU or MPS.
    """
    if mode not in AMP_MODES:
        raise UserError(f"unknown amp mode {mode!r}; choose one of: {', '.join(AMP_MODES)}")
    if mode == "off" or (mode == "auto" and device.type != "cuda"):
        return None
    if mode == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if mode == "fp16" and device.type != "cuda":
        raise UserError(f"amp fp16 needs a CUDA GPU (device is {device.type}); use --set train.amp=bf16 or off")
    if mode == "bf16" and device.type == "mps":
        raise UserError("amp bf16 is not supported on MPS here; use --set train.amp=off")
    return torch.bfloat16 if mode == "bf16" else torch.float16


class Precision:
    """Autocast for forwards plus the one GradScaler shared by both players.

    The scaler is active only for fp16 (bf16 has fp32's exponent range and needs none);
    when inactive, `step` is a plain backward + optimizer step.
    """

    def __init__(self, device: torch.device, dtype: torch.dtype | None, scaler: bool | None = None) -> None:
        self.device_type = device.type
        self.dtype = dtype
        use_scaler = dtype == torch.float16 if scaler is None else scaler
        self.scaler = torch.amp.GradScaler(device.type, enabled=use_scaler)

    def autocast(self) -> contextlib.AbstractContextManager:
        """Context for the forward passes and loss computations."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def step(self, loss: torch.Tensor, optimizer: torch.optim.Optimizer, clip_norm: float = 0.0) -> None:
        """Backpropagate `loss` (scaled) into fresh gradients and step `optimizer` through the scaler.

        `clip_norm` > 0 rescales the optimizer's gradients to that global L2 norm at most (on the
        unscaled gradients, so the bound means the same with and without fp16 loss scaling)."""
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        if clip_norm > 0:
            self.scaler.unscale_(optimizer)
            params = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(params, clip_norm)
        self.scaler.step(optimizer)  # skipped when the unscaled gradients hold inf/NaN
        self.scaler.update()


NHWC_DEVICES = ("cuda", "cpu")   # where `train.channels_last` is applied (measured faster on both)


def place_module(module: nn.Module, device: torch.device, channels_last: bool) -> nn.Module:
    """Move `module` to `device`; NHWC weight layout on CUDA and CPU when `channels_last` (faster convs).

    On CPU, oneDNN's NHWC convolutions took one training step of the deblur model (batch 4 x 256 px,
    2 threads) from 0.48 s to 0.30 s, and to 0.15 s with `train.amp=bf16` on an AVX512-BF16 CPU.
    """
    module = module.to(device)
    if channels_last and device.type in NHWC_DEVICES:
        module = module.to(memory_format=torch.channels_last)
    return module


def place_tensor(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    """Move a batch tensor to `device`; 4-D images go NHWC on CUDA and CPU when `channels_last`."""
    x = x.to(device, non_blocking=True)
    if channels_last and device.type in NHWC_DEVICES and x.dim() == 4:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def maybe_compile(module: nn.Module, enabled: bool) -> nn.Module:
    """`torch.compile(module)` when `enabled` (opt-in: compile time only pays off on long runs)."""
    return torch.compile(module) if enabled else module
