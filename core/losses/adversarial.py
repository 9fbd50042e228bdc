"""Adversarial games: a discriminator loss and a generator loss per game, all on logits.

Notation: `r` are discriminator outputs on real data, `f` on generated data, both raw
logits of any shape — (B,) / (B, 1) for a global critic, (B, 1, h, w) for a patch critic.
`E[.]` is the mean over *every* element (batch and patches). D(x) = sigmoid(logit) and the
log-probabilities are written with softplus, so no sigmoid is ever followed by a log:

    log D(x)     = -softplus(-l)        log(1 - D(x)) = -softplus(l)

Every loss casts the logits to (at least) float32 first, so bf16/fp16 logits from an autocast
forward are safe (the reductions and exponentials run in fp32).

Games (`a` = positive label, 1.0 unless one-sided label smoothing is on):

    minimax         d = a·sp(-r) + (1-a)·sp(r) + sp(f)     g = -E[sp(f)]   (= E log(1 - D(G(z))))
    nonsaturating   d = as minimax                         g = E[sp(-f)]   (= -E log D(G(z)))
    ml              d = as minimax                         g = -1/2 E[exp(f)]
    wgan            d = E[f] - E[r]                        g = -E[f]
    hinge           d = E[relu(1 - r)] + E[relu(1 + f)]    g = -E[f]
    lsgan           d = 1/2 E[(r - a)²] + 1/2 E[f²]        g = 1/2 E[(f - 1)²]
    relativistic    with r~ = r - E[f], f~ = f - E[r]:
                    d = BCE(r~, a) + BCE(f~, 0)            g = BCE(f~, 1) + BCE(r~, 0)
    relativistic_lsgan
                    d = 1/2 (E[(r~ - a)²] + E[(f~ + 1)²])  g = 1/2 (E[(f~ - 1)²] + E[(r~ + 1)²])

(sp = softplus, each term averaged with E; BCE(x, t) = E[t·sp(-x) + (1-t)·sp(x)].)
"ml" is Goodfellow's maximum-likelihood generator cost J_G = -1/2 E[exp(sigma^-1(D(G(z))))];
exp(logit) is unbounded by definition, so it can overflow for logits above ~88.
"relativistic" is RaSGAN (Jolicoeur-Martineau 2018, sum of the two terms as in the paper);
"relativistic_lsgan" is RaLSGAN with the 1/2 average used by DeblurGAN-v2.

One-sided label smoothing (Salimans et al. 2016) replaces only the positive target 1 by
`label_smoothing` (e.g. 0.9) in the discriminator loss of the games that use labels;
negative targets stay 0 (or -1 for RaLSGAN). WGAN and hinge have no labels and refuse it.

In the relativistic generator losses the real logits are detached: they have no generator
dependency, and detaching lets the engine reuse the logits computed in its D step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_app.errors import UserError


@dataclass(frozen=True)
class Game:
    """One adversarial game: `d_loss(real, fake, label_smoothing=1.0)`, `g_loss(fake, real=None)`.

    `uses_real_in_g` is True when `g_loss` needs the real logits (relativistic games).
    `d_fake_loss(logits)` is the fake side of `d_loss` alone ("score these as not real"), for
    extra negatives such as text-to-image's real images with mismatched captions; None for the
    relativistic games, whose D loss does not split into a real and a fake part.
    """

    name: str
    d_loss: Callable[..., Tensor]
    g_loss: Callable[..., Tensor]
    uses_real_in_g: bool
    d_fake_loss: Callable[[Tensor], Tensor] | None = None


def _logits(x: Tensor, what: str) -> Tensor:
    """Checked logits tensor of any shape, in at least float32 (bf16/fp16 go up; float64 stays)."""
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.numel() == 0:
        raise ValueError(f"{what} must be a non-empty floating-point tensor of logits, got {x!r:.80}")
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _positive_label(label_smoothing: float) -> float:
    if not 0.0 < label_smoothing <= 1.0:
        raise UserError(f"label smoothing must be in (0, 1] (1.0 = off), got {label_smoothing}; use e.g. 0.9")
    return float(label_smoothing)


def _no_labels(game: str, label_smoothing: float) -> None:
    if label_smoothing != 1.0:
        raise UserError(
            f"the {game!r} game has no labels, so label smoothing cannot apply; "
            "set label smoothing to 1.0 or pick minimax/nonsaturating/ml/lsgan/relativistic*"
        )


def _bce(logits: Tensor, target: float) -> Tensor:
    # torch's BCE-with-logits is the stable softplus form: t·sp(-l) + (1-t)·sp(l).
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


# --- saturating / non-saturating / maximum-likelihood: same discriminator -----------------


def minimax_d_loss(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 1.0) -> Tensor:
    """-E[a log D(x) + (1-a) log(1-D(x))] - E[log(1 - D(G(z)))], scalar fp32."""
    r, f = _logits(real_logits, "real_logits"), _logits(fake_logits, "fake_logits")
    return _bce(r, _positive_label(label_smoothing)) + _bce(f, 0.0)


def minimax_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """E[log(1 - D(G(z)))] = -E[softplus(f)]; saturates (vanishing gradient) when D(G(z)) -> 0."""
    return -F.softplus(_logits(fake_logits, "fake_logits")).mean()


def nonsaturating_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """-E[log D(G(z))] = E[softplus(-f)]; strong gradient when D(G(z)) -> 0."""
    return F.softplus(-_logits(fake_logits, "fake_logits")).mean()


def ml_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """Maximum-likelihood cost -1/2 E[exp(sigma^-1(D(G(z))))] = -1/2 E[exp(f)]."""
    return -0.5 * torch.exp(_logits(fake_logits, "fake_logits")).mean()


# --- WGAN and hinge: unbounded critic scores, no labels ----------------------------------


def wgan_d_loss(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 1.0) -> Tensor:
    """E[f] - E[r]: the negated Wasserstein-1 estimate (needs clipping or a gradient penalty)."""
    _no_labels("wgan", label_smoothing)
    return _logits(fake_logits, "fake_logits").mean() - _logits(real_logits, "real_logits").mean()


def critic_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """-E[f]: generator loss shared by WGAN and hinge."""
    return -_logits(fake_logits, "fake_logits").mean()


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 1.0) -> Tensor:
    """E[relu(1 - r)] + E[relu(1 + f)]."""
    _no_labels("hinge", label_smoothing)
    r, f = _logits(real_logits, "real_logits"), _logits(fake_logits, "fake_logits")
    return F.relu(1.0 - r).mean() + F.relu(1.0 + f).mean()


# --- least squares -----------------------------------------------------------------------


def lsgan_d_loss(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 1.0) -> Tensor:
    """1/2 E[(r - a)²] + 1/2 E[f²] on raw outputs (no sigmoid), targets a (real) and 0 (fake)."""
    r, f = _logits(real_logits, "real_logits"), _logits(fake_logits, "fake_logits")
    return 0.5 * (r - _positive_label(label_smoothing)).pow(2).mean() + 0.5 * f.pow(2).mean()


def lsgan_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """1/2 E[(f - 1)²]."""
    return 0.5 * (_logits(fake_logits, "fake_logits") - 1.0).pow(2).mean()


# --- relativistic average ----------------------------------------------------------------


def _relative(real_logits: Tensor | None, fake_logits: Tensor, game: str) -> tuple[Tensor, Tensor]:
    """(r - E[f], f - E[r]), each keeping its own shape."""
    if real_logits is None:
        raise ValueError(f"the {game!r} generator loss needs real_logits (Game.uses_real_in_g is True)")
    r, f = _logits(real_logits, "real_logits"), _logits(fake_logits, "fake_logits")
    return r - f.mean(), f - r.mean()


def relativistic_d_loss(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 1.0) -> Tensor:
    """RaSGAN: BCE(r - E[f], a) + BCE(f - E[r], 0)."""
    r_rel, f_rel = _relative(real_logits, fake_logits, "relativistic")
    return _bce(r_rel, _positive_label(label_smoothing)) + _bce(f_rel, 0.0)


def relativistic_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """RaSGAN: BCE(f - E[r], 1) + BCE(r - E[f], 0), real logits detached."""
    r_rel, f_rel = _relative(None if real_logits is None else real_logits.detach(), fake_logits, "relativistic")
    return _bce(f_rel, 1.0) + _bce(r_rel, 0.0)


def relativistic_lsgan_d_loss(real_logits: Tensor, fake_logits: Tensor, label_smoothing: float = 1.0) -> Tensor:
    """RaLSGAN: 1/2 (E[(r - E[f] - a)²] + E[(f - E[r] + 1)²])."""
    r_rel, f_rel = _relative(real_logits, fake_logits, "relativistic_lsgan")
    a = _positive_label(label_smoothing)
    return 0.5 * ((r_rel - a).pow(2).mean() + (f_rel + 1.0).pow(2).mean())


def relativistic_lsgan_g_loss(fake_logits: Tensor, real_logits: Tensor | None = None) -> Tensor:
    """RaLSGAN: 1/2 (E[(f - E[r] - 1)²] + E[(r - E[f] + 1)²]), real logits detached."""
    real = None if real_logits is None else real_logits.detach()
    r_rel, f_rel = _relative(real, fake_logits, "relativistic_lsgan")
    return 0.5 * ((f_rel - 1.0).pow(2).mean() + (r_rel + 1.0).pow(2).mean())


def _softplus_fake(fake_logits: Tensor) -> Tensor:
    return F.softplus(_logits(fake_logits, "fake_logits")).mean()  # -E[log(1 - D(f))]


def _wgan_fake(fake_logits: Tensor) -> Tensor:
    return _logits(fake_logits, "fake_logits").mean()


def _hinge_fake(fake_logits: Tensor) -> Tensor:
    return F.relu(1.0 + _logits(fake_logits, "fake_logits")).mean()


def _lsgan_fake(fake_logits: Tensor) -> Tensor:
    return 0.5 * _logits(fake_logits, "fake_logits").pow(2).mean()


GAMES: dict[str, Game] = {
    g.name: g
    for g in (
        Game("minimax", minimax_d_loss, minimax_g_loss, False, _softplus_fake),
        Game("nonsaturating", minimax_d_loss, nonsaturating_g_loss, False, _softplus_fake),
        Game("ml", minimax_d_loss, ml_g_loss, False, _softplus_fake),
        Game("wgan", wgan_d_loss, critic_g_loss, False, _wgan_fake),
        Game("hinge", hinge_d_loss, critic_g_loss, False, _hinge_fake),
        Game("lsgan", lsgan_d_loss, lsgan_g_loss, False, _lsgan_fake),
        Game("relativistic", relativistic_d_loss, relativistic_g_loss, True),
        Game("relativistic_lsgan", relativistic_lsgan_d_loss, relativistic_lsgan_g_loss, True),
    )
}


def get_game(name: str) -> Game:
    """The game called `name`; a UserError lists the valid names otherwise."""
    try:
        return GAMES[name]
    except KeyError:
        raise UserError(f"unknown adversarial loss {name!r}; choose one of: {', '.join(GAMES)}") from None
