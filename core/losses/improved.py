"""Salimans et al. (2016), "Improved Techniques for Training GANs".

- `feature_matching_loss`: generator matches the mean discriminator features of real data.
- `MinibatchDiscrimination`: lets the discriminator see how similar the samples of a batch
  are to each other (counters mode collapse).
- `HistoricalAveraging`: penalises parameters far from their running historical mean.
- `VirtualBatchNorm2d` + `virtual_forward`: batch norm whose statistics come from a fixed
  reference batch, so one example's output never depends on the other examples of its batch.

The engine exposes them as options (see `gan_app.train.salimans`): `train.feature_matching_weight`,
`train.historical_averaging_weight`; heads build the layers into their models (the conditional
head's `model.minibatch_kernels` and `model.virtual_bn`).

These are written here because torch has no equivalent layers.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence, TypeVar

import torch
from torch import Tensor, nn

T = TypeVar("T")


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

    Inside `virtual_forward(model, reference, batch)` the reference batch runs first: each
    layer normalises it by its own statistics (plain batch norm) and keeps them, the per-channel
    mean and mean of squares of its n examples. Each example x_i of the batch that follows is
    normalised with the statistics of the reference batch *plus itself*, weighted as n + 1:

        mu_i = n/(n+1) mu_ref + 1/(n+1) mu(x_i),   m2_i likewise,   var_i = m2_i - mu_i²
        y_i  = gamma * (x_i - mu_i) / sqrt(var_i + eps) + beta

    so y_i never depends on the other examples of its batch. There the reference statistics
    keep their graph (the gradient flows through them into earlier layers, as in the paper,
    which re-propagates the reference batch every step); a detached copy goes into buffers.
    Any other forward (eval mode, the exported graph) normalises with those buffers: the
    statistics of the last recorded reference pass, a constant per layer.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, affine: bool = True) -> None:
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.weight = nn.Parameter(torch.ones(num_features)) if affine else None  # gamma, (C,)
        self.bias = nn.Parameter(torch.zeros(num_features)) if affine else None  # beta, (C,)
        self.register_buffer("ref_mean", torch.zeros(num_features))
        self.register_buffer("ref_sq_mean", torch.zeros(num_features))
        self.register_buffer("ref_count", torch.zeros((), dtype=torch.long))
        self._recording = False
        self._live: tuple[Tensor, Tensor] | None = None  # this pass's reference statistics, with their graph

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 4 or x.shape[1] != self.num_features:
            raise ValueError(f"expected (N, {self.num_features}, H, W), got {tuple(x.shape)}")
        xf = x.float()
        if self._recording:
            mean, sq_mean = xf.mean(dim=(0, 2, 3)), xf.pow(2).mean(dim=(0, 2, 3))  # (C,), (C,)
            self._live = (mean, sq_mean)
            with torch.no_grad():
                self.ref_mean.copy_(mean)
                self.ref_sq_mean.copy_(sq_mean)
                self.ref_count.fill_(x.shape[0])
            return self._normalise(xf, mean[None], sq_mean[None]).to(x.dtype)
        n = int(self.ref_count)
        if n == 0:
            raise RuntimeError("VirtualBatchNorm2d: no reference statistics yet; run the reference batch "
                               "through virtual_forward first")
        ref_mean, ref_sq_mean = self._live if self._live is not None else (self.ref_mean, self.ref_sq_mean)
        new = 1.0 / (n + 1)
        mean = (1 - new) * ref_mean + new * xf.mean(dim=(2, 3))  # (N, C)
        sq_mean = (1 - new) * ref_sq_mean + new * xf.pow(2).mean(dim=(2, 3))  # (N, C)
        return self._normalise(xf, mean, sq_mean).to(x.dtype)

    def _normalise(self, x: Tensor, mean: Tensor, sq_mean: Tensor) -> Tensor:
        """x (N, C, H, W) fp32 with per-example (or shared, (1, C)) statistics (N, C) -> affine-normalised."""
        var = (sq_mean - mean.pow(2)).clamp_min(0.0)  # clamp: guards fp cancellation
        y = (x - mean[:, :, None, None]) * torch.rsqrt(var[:, :, None, None] + self.eps)
        if self.weight is not None:
            y = y * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        return y

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, affine={self.weight is not None}"


def virtual_forward(model: nn.Module, reference: Callable[[], Any], batch: Callable[[], T]) -> T:
    """`batch()` with every `VirtualBatchNorm2d` of `model` normalising by the statistics `reference()` records.

    `reference` runs the fixed reference batch through `model` (its output is discarded), `batch`
    the real one; both are closures so the caller decides the inputs (noise and labels, say).
    The recorded statistics keep their graph for `batch()` only and are dropped afterwards, so a
    later backward never meets a freed graph; the buffers keep the detached copy for eval mode.
    """
    layers = [m for m in model.modules() if isinstance(m, VirtualBatchNorm2d)]
    try:
        for m in layers:
            m._recording = True
        reference()
        for m in layers:
            m._recording = False
        return batch()
    finally:
        for m in layers:
            m._recording, m._live = False, None
