"""Feature networks: a classifier's (features, probabilities), batching, and no silent Inception fallback."""

import numpy as np
import pytest
import torch
import torch.nn as nn

from gan_app.errors import UserError
from gan_app.metrics.feature_networks import ClassifierNetwork, compute, inception_v3


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
        self.out = nn.Linear(3, 2)

    def features(self, x):
        return self.body(x)

    def forward(self, x):
        return self.out(self.features(x))


def test_classifier_network_gives_penultimate_features_and_softmax():
    torch.manual_seed(0)
    model = Tiny()
    net = ClassifierNetwork(model, "tiny")
    x = torch.randn(5, 1, 2, 2)
    feats, probs = net(x)
    torch.testing.assert_close(feats, model.features(x))
    torch.testing.assert_close(probs, torch.softmax(model(x), 1))
    f_all, p_all = compute(net, [x[:2], x[2:]])
    assert f_all.shape == (5, 3) and p_all.dtype == np.float64
    np.testing.assert_allclose(p_all.sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(f_all, feats.double().numpy(), atol=1e-6)


def test_classifier_network_needs_features_and_linear_out():
    with pytest.raises(TypeError):
        ClassifierNetwork(nn.Linear(2, 2), "bad")


def test_inception_without_weights_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(UserError, match="Inception v3 weights are not cached"):
        inception_v3()
    with pytest.raises(UserError, match="does not exist"):
        inception_v3(weights=tmp_path / "none.pth")
