"""DCGAN: the architecture rules, shapes for any power-of-two size, conditioning, ONNX."""

import pytest
import torch
import torch.nn as nn

from gan_app.nn.conditional import ConditionalBatchNorm2d
from gan_app.nn.dcgan import DCGANDiscriminator, DCGANGenerator

FORBIDDEN = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d, nn.Upsample, nn.Linear)


def _signature(model: nn.Module) -> list[str]:
    """Leaf layer types in forward order (these models register children in call order)."""
    return [type(m).__name__ for m in model.modules() if not list(m.children()) and not isinstance(m, nn.Identity)]


@pytest.mark.parametrize("resolution", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_follows_dcgan_rules(resolution, channels):
    g = DCGANGenerator(z_dim=16, out_channels=channels, resolution=resolution, base_width=4)
    assert not any(isinstance(m, FORBIDDEN) for m in g.modules())
    n_hidden = {16: 2, 32: 3, 64: 4}[resolution]
    assert _signature(g) == ["ConvTranspose2d", "BatchNorm2d", "ReLU"] * n_hidden + ["ConvTranspose2d", "Tanh"]
    convs = [m for m in g.modules() if isinstance(m, nn.ConvTranspose2d)]
    widths = [c.out_channels for c in convs]
    assert widths == [4 * 2 ** (n_hidden - 1 - i) for i in range(n_hidden)] + [channels]  # halve per doubling
    assert convs[0].kernel_size == (4, 4) and convs[0].stride == (1, 1) and convs[0].padding == (0, 0)
    assert all(c.stride == (2, 2) for c in convs[1:])
    with torch.no_grad():
        convs[-1].weight.mul_(100)  # push the output layer into saturation: tanh keeps it in [-1, 1]
    out = g(torch.randn(2, 16))
    assert out.shape == (2, channels, resolution, resolution)
    assert 0.99 < out.abs().max() <= 1


@pytest.mark.parametrize("resolution", [16, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_discriminator_follows_dcgan_rules(resolution, channels):
    d = DCGANDiscriminator(in_channels=channels, resolution=resolution, base_width=4)
    assert not any(isinstance(m, FORBIDDEN) for m in d.modules())
    n_hidden = {16: 1, 32: 2, 64: 3}[resolution]
    sig = _signature(d)
    assert sig == ["Conv2d", "LeakyReLU"] + ["Conv2d", "BatchNorm2d", "LeakyReLU"] * n_hidden + ["Conv2d"]
    assert all(m.negative_slope == 0.2 for m in d.modules() if isinstance(m, nn.LeakyReLU))
    last = d.to_logit
    assert last.kernel_size == (4, 4) and last.padding == (0, 0) and last.out_channels == 1
    assert d(torch.randn(3, channels, resolution, resolution)).shape == (3,)


@pytest.mark.parametrize("resolution", [48, 4, 100])
def test_non_power_of_two_resolution_raises(resolution):
    with pytest.raises(ValueError):
        DCGANGenerator(resolution=resolution)
    with pytest.raises(ValueError):
        DCGANDiscriminator(resolution=resolution)


def test_discriminator_features_and_input_check():
    d = DCGANDiscriminator(in_channels=1, resolution=16, base_width=4, out_features=True).eval()
    x = torch.randn(2, 1, 16, 16)
    logits, feats = d(x)
    assert feats.shape == (2, d.feature_dim) and d.feature_dim == 8 * 16
    torch.testing.assert_close(logits, d.to_logit(feats.view(2, 8, 4, 4)).flatten())
    with pytest.raises(ValueError):
        d(torch.randn(2, 1, 28, 28))  # 28 px data must be padded/resized to 32 first


def test_spectral_discriminator_wraps_every_conv():
    d = DCGANDiscriminator(resolution=16, base_width=4, norm="none", spectral=True)
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3 and all(hasattr(c, "parametrizations") for c in convs)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in d.modules())


def test_conditional_generator_uses_labels_and_cond():
    torch.manual_seed(0)
    g = DCGANGenerator(z_dim=8, resolution=8, base_width=4, cond_dim=3, norm="cbn", num_classes=4)
    cbns = [m for m in g.modules() if isinstance(m, ConditionalBatchNorm2d)]
    assert len(cbns) == 1 and cbns[0].num_classes == 4
    with torch.no_grad():
        cbns[0].gamma.weight.normal_()
    g.eval()
    z, cond = torch.randn(1, 8).repeat(2, 1), torch.randn(1, 3).repeat(2, 1)
    out = g(z, torch.tensor([1, 3]), cond=cond)
    assert not torch.allclose(out[0], out[1])
    torch.testing.assert_close(g(z, torch.tensor([3, 3]), cond=cond)[0], out[1])
    out_other_cond = g(z, torch.tensor([1, 3]), cond=cond + 1)
    assert not torch.allclose(out, out_other_cond)
    with pytest.raises(ValueError):
        g(z, cond=cond)  # labels missing
    with pytest.raises(ValueError):
        g(z, torch.tensor([1, 3]))  # cond missing
    with pytest.raises(ValueError):
        DCGANGenerator(norm="batch", num_classes=4)


def test_dcgan_exports_to_onnx(onnx_parity):
    torch.manual_seed(0)
    g = DCGANGenerator(z_dim=8, out_channels=1, resolution=16, base_width=4, cond_dim=2, norm="cbn", num_classes=3)
    onnx_parity(g, {"z": torch.randn(2, 8), "labels": torch.tensor([0, 2]), "cond": torch.randn(2, 2)})
    d = DCGANDiscriminator(in_channels=1, resolution=16, base_width=4, spectral=True, out_features=True)
    onnx_parity(d, {"x": torch.randn(2, 1, 16, 16)})
