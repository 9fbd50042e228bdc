"""Fréchet distance against its closed form for Gaussians."""

import numpy as np
import pytest

from gan_app.metrics.frechet import feature_stats, frechet_distance, frechet_from_features


def _random_cov(rng, d):
    a = rng.standard_normal((d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_identical_gaussians_are_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.standard_normal(6), _random_cov(rng, 6)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_diagonal_closed_form():
    # diagonal covariances commute: d^2 = |mu1-mu2|^2 + sum (sqrt(s1) - sqrt(s2))^2
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0])
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 9.0])
    expected = 1 + 0 + 9 + (1 - 2) ** 2 + (2 - 1) ** 2 + 0
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected, rel=1e-12)


def test_general_covariances_match_the_definition():
    rng = np.random.default_rng(1)
    s1, s2 = _random_cov(rng, 5), _random_cov(rng, 5)
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    # Tr((S1 S2)^1/2) via the eigenvalues of S1 S2 (real, non-negative for PSD S1, S2)
    tr = np.sqrt(np.linalg.eigvals(s1 @ s2).real).sum()
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr
    got = frechet_distance(mu1, s1, mu2, s2)
    assert got == pytest.approx(expected, rel=1e-9)
    assert got == pytest.approx(frechet_distance(mu2, s2, mu1, s1), rel=1e-9)  # symmetric


def test_from_features_uses_sample_statistics():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4000, 3))
    b = rng.standard_normal((4000, 3)) * 2 + np.array([3.0, 0.0, 0.0])
    mu, sigma = feature_stats(b)
    assert mu == pytest.approx([3, 0, 0], abs=0.15) and np.diag(sigma) == pytest.approx([4, 4, 4], rel=0.1)
    # N(0, I) vs N((3,0,0), 4I): 9 + 3 * (1 - 2)^2 = 12
    assert frechet_from_features(a, b) == pytest.approx(12.0, rel=0.05)


def test_shape_mismatch_raises():
    with pytest.raises(ValueError):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
