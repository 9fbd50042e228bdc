"""Gradient penalty and R1 against central finite differences; weight clipping."""

import pytest
import torch
from torch import nn

from gan_app.losses.regularizers import clip_weights_, gradient_penalty, r1_penalty


def _critic():
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(8, 5), nn.Tanh(), nn.Linear(5, 3)).double()  # (B,2,2,2)->(B,3)


def _numeric_grad_norms(critic, x, h=1e-6):
    """Per-sample ||d sum(critic(x_i)) / d x_i||_2 by central differences, (B,)."""
    flat = x.detach().clone().flatten(1)
    grads = torch.zeros_like(flat)
    for i in range(flat.shape[0]):
        for j in range(flat.shape[1]):
            plus, minus = flat[i : i + 1].clone(), flat[i : i + 1].clone()
            plus[0, j] += h
            minus[0, j] -= h
            f = lambda v: critic(v.view(1, *x.shape[1:])).sum()  # noqa: E731
            grads[i, j] = (f(plus) - f(minus)) / (2 * h)
    return grads.norm(dim=1)


def test_gradient_penalty_matches_finite_differences():
    critic = _critic()
    real, fake = torch.randn(3, 2, 2, 2, dtype=torch.float64), torch.randn(3, 2, 2, 2, dtype=torch.float64)
    gp = gradient_penalty(critic, real, fake, target=1.0, generator=torch.Generator().manual_seed(7))
    eps = torch.rand(3, 1, 1, 1, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    with torch.no_grad():
        norms = _numeric_grad_norms(critic, eps * real + (1 - eps) * fake)
    assert gp.item() == pytest.approx(((norms - 1.0) ** 2).mean().item(), rel=1e-6)


def test_gradient_penalty_trains_the_critic():
    # d(penalty)/d(weight) from autograd (needs create_graph) vs a finite difference in the weight.
    critic = _critic()
    real, fake = torch.randn(2, 2, 2, 2, dtype=torch.float64), torch.randn(2, 2, 2, 2, dtype=torch.float64)
    gp = lambda: gradient_penalty(critic, real, fake, generator=torch.Generator().manual_seed(1))  # noqa: E731
    gp().backward()
    w = critic[1].weight
    analytic = w.grad[2, 3].item()
    with torch.no_grad():
        w[2, 3] += 1e-6
        up = gp().item()
        w[2, 3] -= 2e-6
        down = gp().item()
    assert analytic == pytest.approx((up - down) / 2e-6, rel=1e-5)


def test_gradient_penalty_sums_a_list_of_outputs():
    critic = _critic()
    real, fake = torch.randn(2, 2, 2, 2, dtype=torch.float64), torch.randn(2, 2, 2, 2, dtype=torch.float64)
    split = lambda x: [critic(x)[:, :1], critic(x)[:, 1:]]  # noqa: E731
    a = gradient_penalty(split, real, fake, target=0.5, generator=torch.Generator().manual_seed(3))
    b = gradient_penalty(critic, real, fake, target=0.5, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, b)


def test_r1_matches_finite_differences():
    critic = _critic()
    x = torch.randn(3, 2, 2, 2, dtype=torch.float64).requires_grad_(True)
    r1 = r1_penalty(critic(x), x)
    with torch.no_grad():
        norms = _numeric_grad_norms(critic, x)
    assert r1.item() == pytest.approx((norms**2).mean().item(), rel=1e-6)
    r1.backward()  # differentiable wrt the critic's parameters
    assert critic[1].weight.grad.abs().sum() > 0


def test_r1_requires_grad_on_images():
    critic = _critic()
    x = torch.randn(2, 2, 2, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="requires_grad_"):
        r1_penalty(critic(x), x)


def test_gradient_penalty_shape_check():
    with pytest.raises(ValueError, match="share"):
        gradient_penalty(_critic(), torch.zeros(2, 8), torch.zeros(3, 8))


def test_clip_weights_in_place():
    lin = nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.5, -0.02], [0.005, -3.0]]))
        lin.bias.copy_(torch.tensor([0.01, 7.0]))
    clip_weights_(lin, 0.01)
    torch.testing.assert_close(lin.weight, torch.tensor([[0.01, -0.01], [0.005, -0.01]]))
    torch.testing.assert_close(lin.bias, torch.tensor([0.01, 0.01]))
    with pytest.raises(ValueError):
        clip_weights_(lin, 0.0)
