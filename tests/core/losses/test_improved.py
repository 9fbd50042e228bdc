"""Salimans et al. techniques against their closed forms."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_app.losses.improved import (
    HistoricalAveraging,
    MinibatchDiscrimination,
    VirtualBatchNorm2d,
    feature_matching_loss,
    virtual_forward,
)


def test_feature_matching_closed_form():
    real = torch.tensor([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]], requires_grad=True)  # mean (2, 1, 0)
    fake = torch.tensor([[0.0, 1.0, 1.0], [0.0, 1.0, 2.0], [3.0, 1.0, 0.0]], requires_grad=True)  # mean (1, 1, 1)
    loss = feature_matching_loss(real, fake)
    assert loss.item() == pytest.approx(1.0 + 0.0 + 1.0)
    loss.backward()
    assert real.grad is None  # real features are a constant target
    torch.testing.assert_close(fake.grad, torch.tensor([[-2 / 3, 0.0, 2 / 3]] * 3))
    # A list of layers sums the per-layer terms; trailing shapes are flattened.
    second = (torch.ones(2, 1, 2, 2), torch.zeros(5, 1, 2, 2))  # squared distance 4
    assert feature_matching_loss([real, second[0]], [fake, second[1]]).item() == pytest.approx(6.0)


def test_feature_matching_checks_shapes():
    with pytest.raises(ValueError):
        feature_matching_loss(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError):
        feature_matching_loss([torch.zeros(2, 3)], [])


def test_minibatch_discrimination_identical_samples():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(in_features=4, out_features=3, kernel_dims=2)
    x = torch.randn(1, 4).repeat(5, 1)  # five identical samples
    out = layer(x)
    assert out.shape == (5, 4 + 3)
    torch.testing.assert_close(out[:, :4], x)
    torch.testing.assert_close(out[:, 4:], torch.full((5, 3), 4.0))  # sum over j != i of exp(0)


def test_minibatch_discrimination_closed_form_and_gradient():
    torch.manual_seed(1)
    layer = MinibatchDiscrimination(3, 2, 4)
    x = torch.randn(4, 3)
    out = layer(x)
    m = torch.einsum("na,abc->nbc", x, layer.T.detach())  # (N, B, C)
    expected = torch.zeros(4, 2)
    for i in range(4):
        for j in range(4):
            if i != j:
                expected[i] += torch.exp(-(m[i] - m[j]).abs().sum(-1))
    torch.testing.assert_close(out[:, 3:], expected)
    out[:, 3:].sum().backward()
    assert layer.T.grad is not None and layer.T.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        layer(torch.randn(4, 5))


def test_historical_averaging_penalty_and_state():
    net = nn.Linear(2, 1)
    ha = HistoricalAveraging(net)
    assert ha.penalty(net).item() == 0.0  # nothing recorded yet
    for value in (1.0, 3.0):
        with torch.no_grad():
            for p in net.parameters():
                p.fill_(value)
        ha.update(net)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[0.0, 5.0]]))
        net.bias.fill_(2.0)
    # mean of the recorded values is 2 everywhere: (0-2)² + (5-2)² + (2-2)² = 13
    penalty = ha.penalty(net)
    assert penalty.item() == pytest.approx(13.0)
    penalty.backward()
    torch.testing.assert_close(net.weight.grad, torch.tensor([[-4.0, 6.0]]))
    # The running mean is module state: it survives a state_dict round trip.
    clone = HistoricalAveraging(net)
    clone.load_state_dict(ha.state_dict())
    assert clone.penalty(net).item() == pytest.approx(13.0)
    for other in (nn.Linear(3, 1, bias=False), nn.Linear(3, 1)):  # other names / other shapes
        with pytest.raises(ValueError):
            ha.penalty(other)


def _record_then(vbn, ref, x):
    """vbn(x) normalised by the statistics of reference batch `ref` (recorded first)."""
    return virtual_forward(vbn, lambda: vbn(ref), lambda: vbn(x))


def test_virtual_batch_norm_matches_batch_norm_of_reference_plus_example():
    torch.manual_seed(0)
    vbn = VirtualBatchNorm2d(3)
    with torch.no_grad():
        vbn.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
        vbn.bias.copy_(torch.tensor([0.0, -1.0, 3.0]))
    ref = torch.randn(6, 3, 4, 4) * 2 + 1
    x = torch.randn(5, 3, 4, 4)
    out = _record_then(vbn, ref, x)
    for i in range(5):
        joint = torch.cat([ref, x[i : i + 1]])  # the reference batch plus this example: n + 1 = 7
        bn = F.batch_norm(joint, None, None, vbn.weight, vbn.bias, training=True, eps=vbn.eps)
        torch.testing.assert_close(out[i], bn[-1], atol=1e-5, rtol=1e-5)
    # The reference batch itself is plain batch norm of its own statistics.
    recorded = []
    virtual_forward(vbn, lambda: recorded.append(vbn(ref)), lambda: None)
    bn_ref = F.batch_norm(ref, None, None, vbn.weight, vbn.bias, training=True, eps=vbn.eps)
    torch.testing.assert_close(recorded[0], bn_ref, atol=1e-5, rtol=1e-5)


def test_virtual_batch_norm_gradient_flows_through_the_reference_statistics():
    """The paper re-propagates the reference batch every step: the layers before a VBN get the gradient
    through its statistics too. The closed form is batch norm of [conv(ref), conv(x_i)] per example."""
    torch.manual_seed(0)
    conv, vbn = nn.Conv2d(2, 3, 3, padding=1), VirtualBatchNorm2d(3)
    model = nn.Sequential(conv, vbn)
    ref, x, w = torch.randn(4, 2, 5, 5), torch.randn(3, 2, 5, 5), torch.randn(3, 3, 5, 5)
    (virtual_forward(model, lambda: model(ref), lambda: model(x)) * w).sum().backward()
    got = conv.weight.grad.clone()
    conv.weight.grad = None
    expected = 0
    for i in range(3):
        joint = F.batch_norm(torch.cat([conv(ref), conv(x[i : i + 1])]), None, None, vbn.weight, vbn.bias,
                             training=True, eps=vbn.eps)  # (n + 1, C, H, W)
        expected = expected + (joint[-1] * w[i]).sum()
    expected.backward()
    torch.testing.assert_close(got, conv.weight.grad, atol=1e-5, rtol=1e-4)
    # Without the reference path (statistics detached) the gradient is another one: the test sees it.
    conv.weight.grad = None
    virtual_forward(model, lambda: model(ref), lambda: None)
    (model(x) * w).sum().backward()  # outside: the recorded buffers, constants
    assert not torch.allclose(got, conv.weight.grad, atol=1e-4)


def test_virtual_batch_norm_ignores_the_rest_of_the_batch_and_eval_uses_the_recorded_statistics():
    torch.manual_seed(0)
    vbn = VirtualBatchNorm2d(2)
    ref = torch.randn(4, 2, 3, 3)
    x = torch.randn(3, 2, 3, 3)
    other = x.clone()
    other[1:] = torch.randn(2, 2, 3, 3) * 10
    trained = _record_then(vbn, ref, x)
    torch.testing.assert_close(trained[0], _record_then(vbn, ref, other)[0])
    torch.testing.assert_close(trained[0], _record_then(vbn, ref, x[:1])[0])
    vbn.eval()  # no reference pass: the buffers of the last one, the same numbers
    torch.testing.assert_close(vbn(x), trained)
    assert int(vbn.ref_count) == 4 and vbn._live is None  # the graph of the pass is not kept


def test_virtual_batch_norm_needs_reference():
    with pytest.raises(RuntimeError, match="virtual_forward"):
        VirtualBatchNorm2d(2)(torch.randn(1, 2, 3, 3))
    with pytest.raises(ValueError):
        vbn = VirtualBatchNorm2d(2)
        virtual_forward(vbn, lambda: vbn(torch.randn(1, 3, 3, 3)), lambda: None)
