"""Spectral normalisation on/off switch and its removal before a legacy ONNX export.

Spectral norm uses `torch.nn.utils.parametrizations.spectral_norm`. In eval mode it divides
the weight by sigma from the stored power-iteration vectors (no iteration), so exports are
deterministic. The torch.export-based ONNX exporter (`torch.onnx.export(..., dynamo=True)`)
exports it as is. The legacy TorchScript exporter (`dynamo=False`) fails on it
(`aten::vdot` is not supported): call `remove_spectral_norm_` first to bake W / sigma into a
plain weight.
"""

from __future__ import annotations

import torch.nn as nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

# The parametrization class is private, but it is the only way to tell spectral norm apart
# from other parametrizations (weight norm, orthogonal) that must stay in place.
from torch.nn.utils.parametrizations import _SpectralNorm


def maybe_spectral(module: nn.Module, enabled: bool) -> nn.Module:
    """Wrap `module.weight` in spectral norm (one power iteration per train-mode forward)."""
    return spectral_norm(module) if enabled else module


def remove_spectral_norm_(module: nn.Module) -> nn.Module:
    """Bake every spectral-norm parametrization under `module` into a plain weight, in place.

    The baked weight is W / sigma with sigma from the stored vectors (the eval-mode value),
    whatever mode the model is in: the parametrization is put in eval mode first so removing it
    does not run one more power iteration. Only needed for the legacy ONNX exporter or for a
    frozen copy; training must keep the parametrization. Returns `module`.
    """
    for sub in list(module.modules()):  # list: removal edits the module tree
        if not parametrize.is_parametrized(sub):
            continue
        for name in list(sub.parametrizations.keys()):
            chain = sub.parametrizations[name]
            if any(isinstance(p, _SpectralNorm) for p in chain):
                chain.eval()
                parametrize.remove_parametrizations(sub, name, leave_parametrized=True)
    return module
