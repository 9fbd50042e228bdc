"""EMA of generator weights: the exact update formula, the start step, buffers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_app.train.ema import EMA


def _net() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def test_constant_weights_follow_the_closed_form():
    net = _net()
    ema = EMA(net, decay=0.9)
    start = [p.detach().clone() for p in ema.shadow.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(2.0)
    for step in range(5):
        ema.update(step)
    # shadow_k = d^k s_0 + (1 - d^k) p
    for s0, s in zip(start, ema.shadow.parameters()):
        torch.testing.assert_close(s, 0.9**5 * s0 + (1 - 0.9**5) * 2.0, rtol=0, atol=1e-6)


def test_each_update_is_decay_times_shadow_plus_one_minus_decay_times_param():
    net = _net()
    ema = EMA(net, decay=0.75)
    expected = [p.detach().clone() for p in net.parameters()]
    g = torch.Generator().manual_seed(1)
    for step in range(4):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn(p.shape, generator=g))
        ema.update(step)
        expected = [0.75 * e + 0.25 * p.detach() for e, p in zip(expected, net.parameters())]
    for e, s in zip(expected, ema.shadow.parameters()):
        torch.testing.assert_close(s, e, rtol=0, atol=1e-6)


def test_before_start_the_shadow_copies_and_buffers_are_always_copied():
    net = _net()
    ema = EMA(net, decay=0.99, start=3)
    net(torch.randn(16, 3))  # train-mode forward moves the BN running stats
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(-3.0)
    ema.update(step=2)  # before start: exact copy
    for p, s in zip(net.parameters(), ema.shadow.parameters()):
        assert torch.equal(p, s)
    for b, s in zip(net.buffers(), ema.shadow.buffers()):
        assert torch.equal(b, s)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    ema.update(step=3)  # from start: averaging
    for p, s in zip(net.parameters(), ema.shadow.parameters()):
        torch.testing.assert_close(s, p - 0.99, rtol=0, atol=1e-5)


def test_shadow_is_frozen_and_separate():
    net = _net()
    ema = EMA(net, decay=0.5)
    assert not any(p.requires_grad for p in ema.shadow.parameters())
    assert all(s.data_ptr() != p.data_ptr() for s, p in zip(ema.shadow.parameters(), net.parameters()))
    assert not ema.shadow.training
    with pytest.raises(ValueError):
        EMA(net, decay=1.0)


def test_recalibrate_sets_batch_norm_statistics_for_the_shadows_own_weights():
    net = _net()
    ema = EMA(net, decay=0.5)
    with torch.no_grad():
        ema.shadow[0].weight.mul_(3.0)  # the shadow's weights now differ from G's
        ema.shadow[1].running_mean.fill_(7.0)  # and its copied statistics are G's (here: junk)
    g = torch.Generator().manual_seed(2)
    batches = [torch.randn(8, 3, generator=g) + 1.0 for _ in range(5)]
    feeds = iter(batches)
    ema.recalibrate(lambda model: model(next(feeds)), batches=5)
    with torch.no_grad():
        hidden = [ema.shadow[0](x) for x in batches]  # (8, 4) each
    torch.testing.assert_close(ema.shadow[1].running_mean, torch.stack([h.mean(0) for h in hidden]).mean(0))
    torch.testing.assert_close(ema.shadow[1].running_var, torch.stack([h.var(0) for h in hidden]).mean(0))
    assert not ema.shadow.training and ema.shadow[1].momentum == 0.1  # back to inference, momentum restored
    ema.update(1)  # a later update copies G's statistics again, until the next recalibration
    assert torch.equal(ema.shadow[1].running_mean, net[1].running_mean)


def test_recalibrate_records_virtual_batch_norm_statistics_for_the_shadows_own_weights():
    """The copied reference statistics belong to G's weights; one train-mode forward of the shadow makes them its own."""
    from gan_app.apps.conditional.model import ConditionalGenerator, ConditionalModelConfig

    torch.manual_seed(0)
    g = ConditionalGenerator(ConditionalModelConfig(num_classes=3, z_dim=8, g_width=8, resolution=8, virtual_bn=6))
    z, labels = torch.randn(4, 8), torch.tensor([0, 1, 2, 0])
    ema = EMA(g, decay=0.5)
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.3)
        g(z, labels)  # G's train-mode forward records the statistics for its new weights
    ema.update(step=1)  # shadow = the average of old and new weights, with G's statistics copied
    calls = []
    with torch.no_grad():
        copied = ema.shadow(z, labels)  # eval mode: G's statistics
        ema.recalibrate(lambda model: calls.append(model(z, labels)), batches=8)
        recalibrated = ema.shadow(z, labels)
        own = ema.shadow.train()(z, labels)  # what the shadow's own reference statistics give
    torch.testing.assert_close(recalibrated, own, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(copied, own, atol=1e-4)
    ema.shadow.eval()
    assert len(calls) == 1  # no running statistics to average: one forward
