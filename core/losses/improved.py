"""Salimans et al. (2016), "Improved Techniques for Training GANs".

- `feature_matching_loss`: generator matches the mean discriminator features of real data.
- `MinibatchDiscrimination`: lets the discriminator see how similar the samples of a batch
  are to each other (counters mode collapse).
- `HistoricalAveraging`: penalises parameters far from their running historical mean.
- `VirtualBatchNorm2d`: batch norm whose statistics come from a fixed reference batch, so
  one example's output never depends on the other examples of its batch.

These are written here because torch has no equivalent layers.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn


def feature_matching_loss(real_features: Tensor | Sequence[Tensor], fake_features: Tensor | Sequence[Tensor]) -> Tensor:
    """|| E_x f(x) - E_z f(G(z)) ||_2², summed over a list of feature tensors.

    Each feature tensor is (B, ...) (any trailing shape, e.g. (B, C, H, W) from an
    intermediate discriminator layer); E is the batch mean, the norm runs over all trailing
    elements (the paper's squared L2 norm, not a per-element mean). Real features are
    detached: this is a generator objective. Real and fake batch sizes may differ.
    """
    reals = [real_features] if isinstance(real_features, Tensor) else list(real_features)
    fakes = [fake_features] if isinstance(fake_features, Tensor) else list(fake_features)
    if len(reals) != len(fakes) or not reals:
        raise ValueError(f"need matching non-empty feature lists, got {len(reals)} real and {len(fakes)} fake")
    total = []
    for r, f in zip(reals, fakes):
        if r.shape[1:] != f.shape[1:]:
            raise ValueError(f"feature shapes differ beyond the batch: {tuple(r.shape)} vs {tuple(f.shape)}")
        diff = r.detach().float().mean(0) - f.float().mean(0)  # (...)
        total.append(diff.pow(2).sum())
    return torch.stack(total).sum()


class MinibatchDiscrimination(nn.Module):
    """(N, A) -> (N, A + B): appends per-sample closeness to the rest of the batch.

    With T of shape (A, B, C): M_i = f(x_i) T is (B, C); c_b(x_i, x_j) = exp(-||M_i,b - M_j,b||_L1);
    o(x_i)_b = sum_{j != i} c_b(x_i, x_j). The self term j = i is excluded: it is the constant
    exp(0) = 1 and carries no information. A batch of identical samples gives o = N - 1;
    well-separated samples give o near 0. Output is the concatenation [f(x), o(x)].
    """

    def __init__(self, in_features: int, out_features: int, kernel_dims: int) -> None:
        super().__init__()
        self.in_features, self.out_features, self.kernel_dims = in_features, out_features, kernel_dims
        # Small init keeps the L1 distances O(1) at the start, so exp(-d) is not all ~0.
        self.T = nn.Parameter(torch.randn(in_features, out_features, kernel_dims) * 0.1)  # (A, B, C)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"expected (N, {self.in_features}) features, got {tuple(x.shape)}")
        m = (x @ self.T.flatten(1)).view(-1, self.out_features, self.kernel_dims)  # (N, B, C)
        m = m.transpose(0, 1).float()  # (B, N, C), distances in fp32 under autocast
        dist = torch.cdist(m, m, p=1)  # (B, N, N) L1 distance per kernel b
        o = torch.exp(-dist).sum(2) - 1.0  # (B, N), minus the self term exp(0)
        return torch.cat([x, o.t().to(x.dtype)], dim=1)  # (N, A + B)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, kernel_dims={self.kernel_dims}"


class HistoricalAveraging(nn.Module):
    """Penalty sum_p || theta_p - mean_{i<=t} theta_p[i] ||² with the running mean in buffers.

    Built from the module it will watch (to shape the buffers, so the state is saved with a
    checkpoint). Each step: `loss += w * ha.penalty(model)` then, after the optimiser step,
    `ha.update(model)` folds the current parameters into the mean. The penalty is 0 before
    the first update; the mean is a constant (no gradient flows into it).
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self._names = [name for name, _ in module.named_parameters()]
        for i, (_, p) in enumerate(module.named_parameters()):
            self.register_buffer(f"mean_{i}", torch.zeros_like(p, dtype=torch.float32))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def _pairs(self, module: nn.Module) -> list[tuple[Tensor, Tensor]]:
        params = list(module.named_parameters())
        pairs = [(p, getattr(self, f"mean_{i}")) for i, (_, p) in enumerate(params) if i < len(self._names)]
        if [n for n, _ in params] != self._names or any(p.shape != m.shape for p, m in pairs):
            raise ValueError("HistoricalAveraging got a module with other parameters than the one it was built for")
        return pairs

    def penalty(self, module: nn.Module) -> Tensor:
        """Squared L2 distance of the current parameters to their historical mean, scalar fp32."""
        pairs = self._pairs(module)
        if int(self.count) == 0 or not pairs:
            return self.count.new_zeros((), dtype=torch.float32)
        return torch.stack([(p.float() - mean).pow(2).sum() for p, mean in pairs]).sum()

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        """mean <- mean + (theta - mean) / t: the running mean of every recorded step."""
        pairs = self._pairs(module)
        self.count += 1
        for p, mean in pairs:
            mean.add_((p.float() - mean) / self.count)


class VirtualBatchNorm2d(nn.Module):
    """Batch norm over (N, C, H, W) with statistics from a fixed reference batch.

    `set_reference(x_ref)` stores per-channel mean and mean of squares of the n reference
    examples (as buffers). Each example x_i is then normalised with the statistics of the
    reference batch *plus itself*, weighted as a batch of n + 1:

        mu_i = n/(n+1) mu_ref + 1/(n+1) mu(x_i),   m2_i likewise,   var_i = m2_i - mu_i²
        y_i  = gamma * (x_i - mu_i) / sqrt(var_i + eps) + beta

    so y_i never depends on the other examples of its batch. The paper re-propagates the
    reference batch through the network every step; when earlier layers train, call
    `set_reference` again with this layer's current input for the reference data.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None  # gamma, (C,)
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None  # beta, (C,)
        self.register_buffer("ref_mean", torch.zeros(num_features))
        self.register_buffer("ref_sq_mean", torch.zeros(num_features))
        self.register_buffer("ref_count", torch.zeros((), dtype=torch.long))

    def _check(self, x: Tensor) -> None:
        if x.dim() != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"expected (N, {self.num_features}, H, W), got {tuple(x.shape)}")

    @torch.no_grad()
    def set_reference(self, x_ref: Tensor) -> None:
        """Record the statistics of the reference batch x_ref, (n, C, H, W)."""
        self._check(x_ref)
        x = x_ref.float()
        self.ref_mean.copy_(x.mean(dim=(0, 2, 3)))
        self.ref_sq_mean.copy_(x.pow(2).mean(dim=(0, 2, 3)))
        self.ref_count.fill_(x.shape[0])

    def forward(self, x: Tensor) -> Tensor:
        self._check(x)
        n = int(self.ref_count)
        if n == 0:
            raise RuntimeError("VirtualBatchNorm2d: call set_reference(x_ref) before the first forward")
        xf = x.float()
        new = 1.0 / (n + 1)
        mean = (1 - new) * self.ref_mean + new * xf.mean(dim=(2, 3))  # (N, C)
        sq_mean = (1 - new) * self.ref_sq_mean + new * xf.pow(2).mean(dim=(2, 3))  # (N, C)
        var = (sq_mean - mean.pow(2)).clamp_min(0.0)  # clamp: guards fp cancellation
        y = (xf - mean[:, :, None, None]) * torch.rsqrt(var[:, :, None, None] + self.eps)
        if self.weight is not None:
            y = y * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return y.to(x.dtype)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, affine={self.weight is not None}"
