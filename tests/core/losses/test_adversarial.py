"""Each game against its closed form, the gradients that motivate them, and the optimal D."""

import math

import pytest
import torch

from gan_app.errors import UserError
from gan_app.losses.adversarial import GAMES, get_game

R = [0.0, 2.0, -1.5, 0.7]  # hand-picked real logits
F_ = [1.0, -3.0, 0.5, -0.2]  # hand-picked fake logits


def _mean(xs):
    return sum(xs) / len(xs)


def _log_d(x):  # log sigmoid(x), written independently of softplus
    return math.log(1.0 / (1.0 + math.exp(-x)))


def _log_1md(x):  # log(1 - sigmoid(x))
    return math.log(1.0 - 1.0 / (1.0 + math.exp(-x)))


def _bce(xs, t):
    return -_mean([t * _log_d(x) + (1 - t) * _log_1md(x) for x in xs])


def _closed_forms(r, f, a):
    """(d_loss, g_loss) per game, from the textbook formulas in plain Python."""
    mr, mf = _mean(r), _mean(f)
    rr, fr = [x - mf for x in r], [x - mr for x in f]
    d_minimax = _bce(r, a) - _mean([_log_1md(x) for x in f])
    return {
        "minimax": (d_minimax, _mean([_log_1md(x) for x in f])),
        "nonsaturating": (d_minimax, -_mean([_log_d(x) for x in f])),
        "ml": (d_minimax, -0.5 * _mean([math.exp(x) for x in f])),
        "wgan": (mf - mr, -mf),
        "hinge": (_mean([max(0.0, 1 - x) for x in r]) + _mean([max(0.0, 1 + x) for x in f]), -mf),
        "lsgan": (0.5 * _mean([(x - a) ** 2 for x in r]) + 0.5 * _mean([x**2 for x in f]),
                  0.5 * _mean([(x - 1) ** 2 for x in f])),
        "relativistic": (_bce(rr, a) + _bce(fr, 0.0), _bce(fr, 1.0) + _bce(rr, 0.0)),
        "relativistic_lsgan": (
            0.5 * (_mean([(x - a) ** 2 for x in rr]) + _mean([(x + 1) ** 2 for x in fr])),
            0.5 * (_mean([(x - 1) ** 2 for x in fr]) + _mean([(x + 1) ** 2 for x in rr])),
        ),
    }


LABEL_GAMES = ["minimax", "nonsaturating", "ml", "lsgan", "relativistic", "relativistic_lsgan"]


@pytest.mark.parametrize("name", list(GAMES))
def test_closed_form(name):
    d_ref, g_ref = _closed_forms(R, F_, 1.0)[name]
    game = get_game(name)
    r, f = torch.tensor(R), torch.tensor(F_)
    assert game.d_loss(r, f).item() == pytest.approx(d_ref, rel=1e-5, abs=1e-6)
    assert game.g_loss(f, r).item() == pytest.approx(g_ref, rel=1e-5, abs=1e-6)
    assert game.uses_real_in_g == name.startswith("relativistic")


@pytest.mark.parametrize("name", LABEL_GAMES)
def test_one_sided_label_smoothing_changes_only_real_targets(name):
    game = get_game(name)
    d_ref, _ = _closed_forms(R, F_, 0.9)[name]
    r = torch.tensor(R, requires_grad=True)
    f = torch.tensor(F_, requires_grad=True)
    smooth = game.d_loss(r, f, label_smoothing=0.9)
    assert smooth.item() == pytest.approx(d_ref, rel=1e-5)
    if not name.startswith("relativistic"):  # there the real target also enters through E[r]
        (gf_smooth,) = torch.autograd.grad(smooth, f)
        (gf_plain,) = torch.autograd.grad(game.d_loss(r, f), f)
        torch.testing.assert_close(gf_smooth, gf_plain)  # fake term untouched


@pytest.mark.parametrize("name", ["wgan", "hinge"])
def test_label_smoothing_refused_without_labels(name):
    with pytest.raises(UserError, match="no labels"):
        get_game(name).d_loss(torch.tensor(R), torch.tensor(F_), label_smoothing=0.9)


def test_label_smoothing_range_checked():
    with pytest.raises(UserError, match=r"\(0, 1\]"):
        get_game("minimax").d_loss(torch.tensor(R), torch.tensor(F_), label_smoothing=1.5)


def test_nonsaturating_gradient_survives_where_saturating_vanishes():
    # D(G(z)) = sigmoid(-12) ~ 6e-6: the discriminator confidently rejects the fakes.
    for name, lo, hi in (("nonsaturating", 0.99, 1.0), ("minimax", 0.0, 1e-5)):
        f = torch.full((8,), -12.0, requires_grad=True)
        (grad,) = torch.autograd.grad(get_game(name).g_loss(f), f)
        per_logit = -grad * 8  # undo the 1/N of the mean; both push the logit up (negative grad)
        assert torch.all((per_logit > lo) & (per_logit < hi)), (name, per_logit)


def _optimal_logits(name, p_data, p_g, label_smoothing):
    """Free logits per discrete point, minimising the D loss of `name` under p_data vs p_g.

    Probabilities are multiples of 1/10, so repeating each point count-many times makes the
    plain batch mean of the game exactly the expectation over the two distributions.
    """
    idx_real = torch.repeat_interleave(torch.arange(len(p_data)), torch.tensor([round(10 * p) for p in p_data]))
    idx_fake = torch.repeat_interleave(torch.arange(len(p_g)), torch.tensor([round(10 * p) for p in p_g]))
    logits = torch.zeros(len(p_data), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([logits], max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = get_game(name).d_loss(logits[idx_real], logits[idx_fake], label_smoothing=label_smoothing)
        loss.backward()
        return loss

    opt.step(closure)
    return logits.detach()


@pytest.mark.parametrize("alpha", [1.0, 0.9])
def test_optimal_discriminator_on_discrete_toy(alpha):
    p_data, p_g = [0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]
    expected = torch.tensor([alpha * d / (d + g) for d, g in zip(p_data, p_g)], dtype=torch.float64)
    d_star = torch.sigmoid(_optimal_logits("minimax", p_data, p_g, alpha))
    torch.testing.assert_close(d_star, expected, atol=1e-6, rtol=0)
    # LSGAN with targets (a, 0) has the same optimum on its raw output.
    torch.testing.assert_close(_optimal_logits("lsgan", p_data, p_g, alpha), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", list(GAMES))
def test_patch_logits_average_over_every_element(name):
    torch.manual_seed(0)
    r, f = torch.randn(3, 1, 4, 5), torch.randn(3, 1, 4, 5)
    game = get_game(name)
    d_ref, g_ref = _closed_forms(r.flatten().tolist(), f.flatten().tolist(), 1.0)[name]
    assert game.d_loss(r, f).item() == pytest.approx(d_ref, rel=1e-5)
    assert game.g_loss(f, r).item() == pytest.approx(g_ref, rel=1e-5)


@pytest.mark.parametrize("name", list(GAMES))
def test_autocast_bf16_agrees_with_fp32(name):
    torch.manual_seed(0)
    critic = torch.nn.Conv2d(3, 1, 3)
    real, fake = torch.randn(4, 3, 6, 6), torch.randn(4, 3, 6, 6)
    game = get_game(name)
    ref_d, ref_g = game.d_loss(critic(real), critic(fake)), game.g_loss(critic(fake), critic(real))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        r, f = critic(real), critic(fake)
        assert r.dtype == torch.bfloat16
        d, g = game.d_loss(r, f), game.g_loss(f, r)
    assert d.dtype == g.dtype == torch.float32
    torch.testing.assert_close(d, ref_d, rtol=3e-2, atol=3e-2)
    torch.testing.assert_close(g, ref_g, rtol=3e-2, atol=3e-2)


def test_stable_for_extreme_logits():
    big = torch.tensor([80.0, -80.0])
    for name in GAMES:
        game = get_game(name)
        assert torch.isfinite(game.d_loss(big, -big)) and torch.isfinite(game.g_loss(-big, big)), name
    # -log D(G(z)) at logit -80 is exactly 80, where sigmoid-then-log would give inf.
    assert get_game("nonsaturating").g_loss(torch.tensor([-80.0])).item() == pytest.approx(80.0)


@pytest.mark.parametrize("name", ["relativistic", "relativistic_lsgan"])
def test_relativistic_generator_loss_needs_and_detaches_real(name):
    game = get_game(name)
    with pytest.raises(ValueError, match="real_logits"):
        game.g_loss(torch.tensor(F_))
    r = torch.tensor(R, requires_grad=True)
    f = torch.tensor(F_, requires_grad=True)
    game.g_loss(f, r).backward()
    assert r.grad is None and f.grad is not None and f.grad.abs().sum() > 0


def test_unknown_game_lists_valid_names():
    with pytest.raises(UserError, match="nonsaturating.*hinge"):
        get_game("vanilla")


@pytest.mark.parametrize("name", sorted(GAMES))
def test_fake_side_is_exactly_the_fake_part_of_the_d_loss(name):
    game = GAMES[name]
    if game.uses_real_in_g:  # relativistic: the D loss couples real and fake, no fake side alone
        assert game.d_fake_loss is None
        return
    torch.manual_seed(0)
    real, fake_a, fake_b = torch.randn(6), torch.randn(6), torch.randn(6) * 3
    # d_loss(r, f) - d_fake_loss(f) is the real part, whatever the fakes are
    torch.testing.assert_close(game.d_loss(real, fake_a) - game.d_fake_loss(fake_a),
                               game.d_loss(real, fake_b) - game.d_fake_loss(fake_b))
    assert game.d_fake_loss(fake_a).dim() == 0
