"""PatchGAN: receptive field (measured), output sizes, multi-scale wrapper, ONNX."""

import pytest
import torch
import torch.nn as nn

from gan_app.nn.patchgan import MultiScaleDiscriminator, PatchDiscriminator


def _support(grad: torch.Tensor) -> tuple[int, int]:
    rows = grad.abs().sum(dim=(0, 1, 3)).nonzero()
    cols = grad.abs().sum(dim=(0, 1, 2)).nonzero()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def test_receptive_field_is_70px_empirically():
    """Gradient of one central logit w.r.t. the input is non-zero on exactly a 70 x 70 window.

    norm="none": instance norm would couple every pixel through its statistics.
    """
    torch.manual_seed(0)
    d = PatchDiscriminator(in_channels=1, base_width=2, n_layers=3, norm="none").double()
    x = torch.randn(1, 1, 160, 160, dtype=torch.float64, requires_grad=True)
    out = d(x)
    assert out.shape == (1, 1, 18, 18)
    out[0, 0, 9, 9].backward()
    assert _support(x.grad) == (70, 70)


def test_output_size_and_norm_placement():
    d = PatchDiscriminator(base_width=4, norm="instance")
    assert d(torch.randn(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in d.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert [c.out_channels for c in convs] == [4, 8, 16, 32, 1]
    assert len(norms) == 3  # none after the input conv and none on the output conv
    with pytest.raises(ValueError):
        d(torch.randn(1, 4, 64, 64))


def test_multiscale_returns_decreasing_maps_from_pooled_inputs():
    torch.manual_seed(0)
    ms = MultiScaleDiscriminator(num_scales=3, in_channels=2, base_width=2, n_layers=2, norm="none").eval()
    x = torch.randn(2, 2, 64, 64)
    outs = ms(x)
    assert len(outs) == 3
    sizes = [o.shape[-1] for o in outs]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == 3
    pooled = nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
    torch.testing.assert_close(outs[1], ms.discriminators[1](pooled))
    assert ms.discriminators[0] is not ms.discriminators[1]


def test_patch_discriminators_export_to_onnx(onnx_parity):
    torch.manual_seed(0)
    ms = MultiScaleDiscriminator(num_scales=2, in_channels=3, base_width=4, norm="batch", spectral=True)
    got = onnx_parity(ms, {"x": torch.randn(2, 3, 64, 64)})
    assert [g.shape[-1] for g in got] == [6, 2]
