"""Inception-Score-style score of class probabilities (Salimans et al. 2016).

    IS = exp( E_x [ KL( p(y|x) || p(y) ) ] ),   p(y) = E_x p(y|x)

It lies in [1, K] for K classes: K when every sample is classified confidently and the
classes are used uniformly, 1 when every sample gets the same distribution. As in the
original protocol the N samples are split into `splits` groups and the mean and standard
deviation over groups are reported. With a domain classifier instead of ImageNet Inception
the number is comparable only between runs using that same classifier; callers say which.
"""

from __future__ import annotations

import numpy as np


def inception_score(probs: np.ndarray, splits: int = 10, eps: float = 1e-12) -> tuple[float, float]:
    """(mean, std) of the score over `splits` equal groups of probs (N, K) (rows sum to 1)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < splits or splits < 1:
        raise ValueError(f"probs must be (N >= splits, K), got {p.shape} with splits={splits}")
    if not np.allclose(p.sum(axis=1), 1.0, atol=1e-4) or (p < 0).any():
        raise ValueError("probs rows must be probability distributions (non-negative, summing to 1)")
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(axis=0, keepdims=True)  # (1, K)
        kl = (part * (np.log(part + eps) - np.log(marginal + eps))).sum(axis=1)  # (n,)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))
