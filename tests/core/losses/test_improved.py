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


def test_virtual_batch_norm_matches_batch_norm_of_reference_plus_example():
    torch.manual_seed(0)
    vbn = VirtualBatchNorm2d(3)
    with torch.no_grad():
        vbn.weight.copy_(torch.tensor([1.0, 2.0, 0.5]))
        vbn.bias.copy_(torch.tensor([0.0, -1.0, 3.0]))
    ref = torch.randn(6, 3, 4, 4) * 2 + 1
    vbn.set_reference(ref)
    x = torch.randn(5, 3, 4, 4)
    out = vbn(x)
    for i in range(5):
        joint = torch.cat([ref, x[i : i + 1]])  # the reference batch plus this example: n + 1 = 7
        bn = F.batch_norm(joint, None, None, vbn.weight, vbn.bias, training=True, eps=vbn.eps)
        torch.testing.assert_close(out[i], bn[-1], atol=1e-5, rtol=1e-5)


def test_virtual_batch_norm_ignores_the_rest_of_the_batch():
    torch.manual_seed(0)
    vbn = VirtualBatchNorm2d(2)
    vbn.set_reference(torch.randn(4, 2, 3, 3))
    x = torch.randn(3, 2, 3, 3)
    other = x.clone()
    other[1:] = torch.randn(2, 2, 3, 3) * 10
    torch.testing.assert_close(vbn(x)[0], vbn(other)[0])
    torch.testing.assert_close(vbn(x)[0], vbn(x[:1])[0])


def test_virtual_batch_norm_needs_reference():
    with pytest.raises(RuntimeError, match="set_reference"):
        VirtualBatchNorm2d(2)(torch.randn(1, 2, 3, 3))
    with pytest.raises(ValueError):
        VirtualBatchNorm2d(2).set_reference(torch.randn(1, 3, 3, 3))
