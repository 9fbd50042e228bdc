"""Discriminator regularizers: WGAN weight clipping, WGAN-GP gradient penalty, R1 penalty.

All penalties return an *unweighted* scalar (at least fp32); the caller multiplies by its weight:

    loss_D += lambda_gp * gradient_penalty(D, real, fake)          # Gulrajani et al.: lambda = 10
    loss_D += gamma / 2 * r1_penalty(D(real_req_grad), real_req_grad)   # Mescheder et al. 2018

Critics used with the gradient penalty should not use batch normalisation (the penalty is
per sample; Gulrajani et al. recommend layer norm or none).
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import Tensor, nn

Logits = Tensor | Sequence[Tensor]


def _fp32(x: Tensor) -> Tensor:
    """`x` in at least float32 (bf16/fp16 from autocast go up; float64 stays)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _total(logits: Logits) -> Tensor:
    """Sum of every element of a logits tensor or of a list of them (multi-scale critics)."""
    if isinstance(logits, Tensor):
        return _fp32(logits).sum()
    if len(logits) == 0:
        raise ValueError("critic returned an empty list of logits")
    return torch.stack([_fp32(t).sum() for t in logits]).sum()


def _grad_sq_norms(logits: Logits, inputs: Tensor) -> Tensor:
    """Per-sample squared L2 norm of d(sum logits)/d inputs, (B,), differentiable."""
    (grad,) = torch.autograd.grad(_total(logits), inputs, create_graph=True)
    return _fp32(grad).flatten(1).pow(2).sum(1)  # (B,)


def gradient_penalty(
    critic: Callable[[Tensor], Logits],
    real: Tensor,
    fake: Tensor,
    target: float = 1.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """WGAN-GP: E[(||grad_x D(x_hat)||_2 - target)²] on x_hat = e·real + (1-e)·fake, e ~ U(0, 1).

    One `e` per sample. `real` and `fake` are (B, ...) of the same shape and are detached
    here (the penalty only trains the critic). `critic` maps (B, ...) to logits of any shape
    or a list of them; the gradient of the sum of all its outputs is used, which per sample
    is the gradient of that sample's outputs because samples do not interact. The graph is
    kept (create_graph=True) so the penalty can be backpropagated into the critic.
    """
    if real.shape != fake.shape or real.dim() < 2:
        raise ValueError(f"real and fake must share a (B, ...) shape, got {tuple(real.shape)} and {tuple(fake.shape)}")
    eps_shape = (real.shape[0],) + (1,) * (real.dim() - 1)  # (B, 1, 1, 1)
    eps = torch.rand(eps_shape, generator=generator, device=real.device, dtype=real.dtype)
    with torch.enable_grad():  # the penalty is a gradient, so it needs autograd even under no_grad
        x_hat = (eps * real.detach() + (1.0 - eps) * fake.detach()).requires_grad_(True)
        # sqrt of (squared norm + tiny): keeps the gradient finite where the norm is exactly 0.
        norms = (_grad_sq_norms(critic(x_hat), x_hat) + 1e-12).sqrt()  # (B,)
    return (norms - target).pow(2).mean()


def r1_penalty(real_logits: Logits, real_images: Tensor) -> Tensor:
    """R1: E_x[ ||grad_x D(x)||_2² ] on real data, WITHOUT the gamma/2 factor (caller applies it).

    `real_images` (B, ...) must have `requires_grad_(True)` set by the caller *before* the
    discriminator forward that produced `real_logits` (a tensor of any shape or a list of
    them). The graph is kept so the penalty trains the discriminator.
    """
    if not real_images.requires_grad:
        raise ValueError("r1_penalty: call real_images.requires_grad_(True) before the discriminator forward")
    return _grad_sq_norms(real_logits, real_images).mean()


@torch.no_grad()
def clip_weights_(module: nn.Module, c: float) -> None:
    """WGAN weight clipping: clamp every parameter of `module` to [-c, c] in place."""
    if c <= 0:
        raise ValueError(f"clip value must be positive, got {c}")
    for p in module.parameters():
        p.clamp_(-c, c)
