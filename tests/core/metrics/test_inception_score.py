"""IS-style score bounds: K for confident uniform class use, 1 for constant predictions."""

import numpy as np
import pytest

from gan_app.metrics.inception_score import inception_score


def test_confident_uniform_predictions_score_k():
    k = 7
    probs = np.eye(k)[np.arange(700) % k]  # one-hot, every class equally often in every split
    mean, std = inception_score(probs, splits=10)
    assert mean == pytest.approx(k, rel=1e-9) and std == pytest.approx(0.0, abs=1e-9)


def test_constant_predictions_score_one():
    probs = np.tile([0.5, 0.3, 0.2], (100, 1))
    assert inception_score(probs, splits=5)[0] == pytest.approx(1.0, abs=1e-12)


def test_known_mixture_value():
    # half the samples confident on class 0, half uniform over 2 classes:
    # p(y) = (0.75, 0.25); KL terms: log(1/0.75) and 0.5 log(0.5/0.75) + 0.5 log(0.5/0.25)
    probs = np.array([[1.0, 0.0], [0.5, 0.5]] * 50)
    kl = 0.5 * np.log(1 / 0.75) + 0.5 * (0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25))
    assert inception_score(probs, splits=1)[0] == pytest.approx(np.exp(kl), rel=1e-9)


def test_rejects_non_probabilities():
    with pytest.raises(ValueError):
        inception_score(np.ones((20, 3)), splits=2)
