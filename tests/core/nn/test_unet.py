"""pix2pix U-Net: sizes, skip connections, dropout placement and mode, ONNX."""

import pytest
import torch
import torch.nn as nn
from torch.export import Dim

from gan_app.nn.unet import UNetGenerator


def test_output_shape_and_size_multiple():
    u = UNetGenerator(in_channels=1, out_channels=3, base_width=4, depth=6)
    assert u.size_multiple == 64
    assert u(torch.randn(2, 1, 64, 128)).shape == (2, 3, 64, 128)
    with pytest.raises(ValueError):
        u(torch.randn(1, 1, 48, 64))


def test_bottleneck_is_one_pixel_at_full_depth():
    u = UNetGenerator(base_width=2, depth=8, norm="instance").eval()
    seen = []
    u.encoder[-1].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    out = u(torch.randn(1, 3, 256, 256))
    assert seen == [(1, 16, 1, 1)] and out.shape == (1, 3, 256, 256)


def test_skips_feed_matching_encoder_outputs():
    torch.manual_seed(0)
    u = UNetGenerator(base_width=4, depth=4).eval()
    enc, dec_in = [], []
    for m in u.encoder:
        m.register_forward_hook(lambda m, i, o: enc.append(o))
    for m in u.decoder[1:]:
        m.register_forward_hook(lambda m, i, o: dec_in.append(i[0]))
    u(torch.randn(1, 3, 32, 32))
    assert len(dec_in) == 3
    for k, x in enumerate(dec_in):  # decoder stage k+1 gets [previous decoder output, encoder depth-2-k]
        skip = enc[len(enc) - 2 - k]
        torch.testing.assert_close(x[:, x.shape[1] // 2 :], skip)
    assert dec_in[-1].shape == (1, 8, 16, 16)  # outermost: 2 * base_width channels


def test_dropout_placement_and_mode():
    u = UNetGenerator(base_width=2, depth=8)
    stages = [any(isinstance(m, nn.Dropout) for m in d.modules()) for d in u.decoder]
    assert stages == [False, True, True, True, False, False, False, False]
    assert not any(isinstance(m, nn.Dropout) for m in UNetGenerator(depth=8, dropout=0.0).modules())
    small = UNetGenerator(base_width=4, depth=4, norm="instance")
    x = torch.randn(1, 3, 16, 16)
    small.eval()
    torch.testing.assert_close(small(x), small(x))  # deterministic in eval
    small.train()
    assert not torch.allclose(small(x), small(x))


def test_out_activation():
    x = torch.randn(1, 3, 16, 16)
    tanh = UNetGenerator(base_width=4, depth=4, norm="none").eval()
    linear = UNetGenerator(base_width=4, depth=4, norm="none", out_activation="none").eval()
    linear.load_state_dict(tanh.state_dict())
    torch.testing.assert_close(tanh(x), torch.tanh(linear(x)))
    with pytest.raises(ValueError):
        UNetGenerator(out_activation="sigmoid")


def test_unet_exports_to_onnx_with_dynamic_size(onnx_parity):
    torch.manual_seed(0)
    u = UNetGenerator(in_channels=1, out_channels=3, base_width=4, depth=4)
    dims = {"x": {0: Dim.AUTO, 2: Dim.AUTO, 3: Dim.AUTO}}
    export_x, run_x = torch.randn(2, 1, 32, 32), torch.randn(1, 1, 48, 16)
    got = onnx_parity(u, {"x": export_x}, run_inputs={"x": run_x}, dynamic_shapes=dims)
    assert got[0].shape == (1, 3, 48, 16)
