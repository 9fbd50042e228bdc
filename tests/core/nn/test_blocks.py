"""ConvNormAct, ResidualBlock, PixelShuffleUpsample."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.export import Dim

from gan_app.nn.blocks import ConvNormAct, PixelShuffleUpsample, ResidualBlock, ResizeConvUpsample


def test_conv_norm_act_sizes_and_bias():
    x = torch.randn(2, 3, 16, 12)
    assert ConvNormAct(3, 5, 3)(x).shape == (2, 5, 16, 12)
    assert ConvNormAct(3, 5, 4, stride=2)(x).shape == (2, 5, 8, 6)
    assert ConvNormAct(3, 5, 4, stride=2, transposed=True)(x).shape == (2, 5, 32, 24)
    assert ConvNormAct(3, 5, norm="batch").conv.bias is None
    assert ConvNormAct(3, 5, norm="none").conv.bias is not None
    relu = ConvNormAct(3, 5, norm="instance", act="relu")(x)
    assert relu.min() >= 0 and (relu == 0).any()


def test_conv_norm_act_conditional_norm_takes_labels():
    block = ConvNormAct(2, 3, norm="cbn", num_classes=2, act="none").eval()
    with torch.no_grad():
        block.norm.beta.weight.copy_(torch.tensor([[0.0] * 3, [5.0] * 3]))
    x = torch.randn(1, 2, 4, 4).repeat(2, 1, 1, 1)
    out = block(x, torch.tensor([0, 1]))
    torch.testing.assert_close(out[1] - out[0], torch.full((3, 4, 4), 5.0))


@pytest.mark.parametrize("norm", ["instance", "none", "batch"])
def test_residual_block_is_identity_with_zero_convs(norm):
    block = ResidualBlock(4, norm=norm)
    for m in block.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.zeros_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    x = torch.randn(2, 4, 7, 7)
    torch.testing.assert_close(block(x), x)


def test_residual_block_res_scale_and_reflect_padding():
    torch.manual_seed(0)
    block = ResidualBlock(3, norm="none", res_scale=0.25, dropout=0.5).eval()
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    assert all(c.padding_mode == "reflect" for c in convs)
    x = torch.randn(1, 3, 6, 6)
    torch.testing.assert_close(block(x), x + 0.25 * block.body(x))
    assert block.body(x).abs().max() > 0
    block.train()
    torch.manual_seed(1)
    a = block(x)
    torch.manual_seed(2)
    assert not torch.allclose(a, block(x))  # dropout is active in train mode
    with pytest.raises(ValueError):
        ResidualBlock(3, kernel_size=4)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_pixel_shuffle_upsample_shapes(scale):
    up = PixelShuffleUpsample(4, scale, out_channels=6)
    assert up(torch.randn(2, 4, 5, 7)).shape == (2, 6, 5 * scale, 7 * scale)
    assert sum(isinstance(m, nn.PixelShuffle) for m in up.modules()) == (2 if scale == 4 else 1)


def test_pixel_shuffle_upsample_rejects_other_scales():
    with pytest.raises(ValueError):
        PixelShuffleUpsample(4, 8)


@pytest.mark.parametrize("scale", [2, 3])
def test_pixel_shuffle_is_subpixel_conv_and_icnr_starts_as_nearest(scale):
    torch.manual_seed(0)
    up = PixelShuffleUpsample(3, scale, activation="none")
    conv = up.body[0]
    x = torch.randn(1, 3, 4, 5)
    out = up(x)
    torch.testing.assert_close(out, F.pixel_shuffle(conv(x), scale))
    # ICNR: all sub-pixels of an output channel equal -> nearest-neighbour upsampling of one conv
    low = out[:, :, ::scale, ::scale]
    torch.testing.assert_close(out, F.interpolate(low, scale_factor=scale, mode="nearest"))


class _Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            ConvNormAct(3, 4, norm="instance", act="prelu", spectral=True),
            ResidualBlock(4, norm="instance"),
            ConvNormAct(4, 4, 3, stride=2, groups=4),
            PixelShuffleUpsample(4, 3, activation="lrelu"),
            PixelShuffleUpsample(4, 4, out_channels=2),
        )

    def forward(self, x):
        return self.net(x)


def test_blocks_export_to_onnx_with_dynamic_size(onnx_parity):
    torch.manual_seed(0)
    dims = {"x": {0: Dim.AUTO, 2: Dim.AUTO, 3: Dim.AUTO}}
    got = onnx_parity(
        _Stack(), {"x": torch.randn(2, 3, 8, 8)}, run_inputs={"x": torch.randn(1, 3, 10, 6)}, dynamic_shapes=dims
    )
    assert got[0].shape == (1, 2, 60, 36)


def _phases(y):
    """The four 2x2 output phases of (B, C, 2h, 2w), each (B, C, h, w)."""
    return [y[..., a::2, b::2] for a in (0, 1) for b in (0, 1)]


def test_resize_conv_draws_no_checkerboard_where_a_transposed_conv_does():
    torch.manual_seed(0)
    flat = torch.full((1, 6, 5, 7), 0.3)
    transposed = nn.ConvTranspose2d(6, 4, 2, stride=2)
    phases = _phases(transposed(flat))
    assert (phases[0] - phases[3]).abs().max() > 1e-2            # one weight per phase: a 2-px pattern
    resize = ResizeConvUpsample(6, 4)
    for p in resize.parameters():                                # as if trained: every weight random
        nn.init.normal_(p, std=0.3)
    y = resize(flat)
    assert y.shape == (1, 4, 10, 14)
    inner = y[..., 2:-2, 2:-2]                                   # away from the zero padding
    assert (inner - inner[..., :1, :1]).abs().max() < 1e-6       # flat in, flat out at every phase


def test_resize_conv_loads_a_transposed_convs_weights_as_their_phase_mean():
    torch.manual_seed(0)
    transposed = nn.ConvTranspose2d(6, 4, 2, stride=2)
    resize = ResizeConvUpsample(6, 4)
    report = resize.load_state_dict(transposed.state_dict())      # strict: every tensor fits
    assert not report.missing_keys and not report.unexpected_keys
    flat = torch.full((1, 6, 5, 7), 0.3)
    mean_of_phases = torch.stack(_phases(transposed(flat))).mean(0)           # (1, 4, 5, 7)
    torch.testing.assert_close(resize(flat)[..., ::2, ::2], mean_of_phases, atol=1e-6, rtol=0)
    x = torch.rand(1, 6, 5, 7)                                    # the depthwise conv starts as the identity:
    torch.testing.assert_close(resize(x), F.interpolate(resize.mix(x), scale_factor=2, mode="nearest"))
    own = ResizeConvUpsample(6, 4)
    own.load_state_dict(resize.state_dict())                      # its own weights load unchanged
    torch.testing.assert_close(own(x), resize(x))


def test_resize_conv_exports_to_onnx_with_dynamic_size(onnx_parity):
    torch.manual_seed(0)
    block = ResizeConvUpsample(3, 2)
    for p in block.parameters():
        nn.init.normal_(p, std=0.3)
    dims = {"x": {0: Dim.AUTO, 2: Dim.AUTO, 3: Dim.AUTO}}
    got = onnx_parity(block, {"x": torch.randn(2, 3, 8, 8)}, run_inputs={"x": torch.randn(1, 3, 10, 6)},
                      dynamic_shapes=dims)
    assert got[0].shape == (1, 2, 20, 12)
