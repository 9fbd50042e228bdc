"""The Salimans et al. options of the engine change the losses and gradients as they claim:
feature matching (G), historical averaging (G and D), one-sided label smoothing (D)."""

from __future__ import annotations

import copy

import pytest
import torch

from gan_app.apps.conditional.head import HEAD as CONDITIONAL
from gan_app.apps.toy.head import HEAD as TOY
from gan_app.checkpoint import read_checkpoint
from gan_app.config import apply_overrides
from gan_app.errors import UserError
from gan_app.losses.adversarial import get_game
from gan_app.losses.improved import feature_matching_loss
from gan_app.train import distributed
from gan_app.train.loop import Trainer, fit


def _trainer(head, run, out) -> Trainer:
    return Trainer(head, run, out, distributed.DistEnv(), torch.device("cpu"))


def _grads(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.grad.clone() for p in module.parameters()]


def test_feature_matching_adds_the_critic_feature_distance_to_the_generator_loss(tmp_path):
    """G's gradient is that of hinge g_loss + w * ||E phi(real) - E phi(fake)||², phi = D's last feature map."""
    run = apply_overrides(CONDITIONAL.recipe("tiny"), ["train.device=cpu", "train.feature_matching_weight=3.0",
                                                       "train.ema_decay=0"])
    trainer = _trainer(CONDITIONAL, run, tmp_path)
    batch = next(trainer.stream)
    G, D = copy.deepcopy(trainer.G_raw), copy.deepcopy(trainer.D_raw)  # as they are before the step
    state = torch.get_rng_state()
    terms = trainer.g_step(batch, trainer.obj.generate(trainer.G, batch))
    got = _grads(trainer.G_raw)

    torch.set_rng_state(state)  # the same noise, the same order of critic calls (spectral norm's power iteration)
    D.requires_grad_(False)
    fake = trainer.obj.generate(G, batch)
    d_fake, phi_fake = D(fake, batch["label"], return_features=True)
    with torch.no_grad():
        _, phi_real = D(batch["image"], batch["label"], return_features=True)
    fm = feature_matching_loss(phi_real, phi_fake)
    (get_game("hinge").g_loss(d_fake) + 3.0 * fm).backward()
    torch.testing.assert_close(terms["G/feature_matching"], fm.detach())
    torch.testing.assert_close(terms["G/total"], terms["G/adv"] + 3.0 * terms["G/feature_matching"])
    for mine, expected in zip(got, _grads(G)):
        torch.testing.assert_close(mine, expected, atol=1e-6, rtol=1e-4)
    assert float(fm.detach()) > 0


def test_feature_matching_needs_a_critic_with_features(tiny_run, tmp_path):
    trainer = _trainer(TOY, tiny_run(feature_matching_weight=1.0), tmp_path)  # the toy MLP critic has none
    batch = next(trainer.stream)
    with pytest.raises(UserError, match="train.feature_matching_weight"):
        trainer.g_step(batch, trainer.obj.generate(trainer.G, batch))


def test_historical_averaging_penalises_the_distance_to_the_running_mean(tiny_run, tmp_path):
    """D's gradient gains w * 2 (theta - mean), its loss w * ||theta - mean||²; the mean then takes the new theta in."""
    trainer = _trainer(TOY, tiny_run(historical_averaging_weight=0.5, r1_weight=0.0, ema_decay=0.0), tmp_path)
    D = trainer.D_raw
    before = [p.detach().clone() for p in D.parameters()]
    trainer.history.update("D")  # the running mean is theta0 ...
    with torch.no_grad():
        for p in D.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # ... and D moved away from it
    theta = [p.detach().clone() for p in D.parameters()]
    batch = next(trainer.stream)
    fake = trainer.obj.generate(trainer.G, batch).detach()
    plain = copy.deepcopy(D)
    terms = trainer.d_step(batch, fake)

    distance = sum(((t - b) ** 2).sum() for t, b in zip(theta, before))
    torch.testing.assert_close(terms["D/historical"], distance)
    torch.testing.assert_close(terms["D/total"], terms["D/adv"] + 0.5 * terms["D/historical"])
    get_game("nonsaturating").d_loss(plain(trainer.obj.real(batch)), plain(fake)).backward()
    for p, q, t, b in zip(D.parameters(), plain.parameters(), theta, before):
        torch.testing.assert_close(p.grad, q.grad + 0.5 * 2 * (t - b), atol=1e-6, rtol=1e-5)
    means = [getattr(trainer.history.averages["D"], f"mean_{i}") for i in range(len(before))]
    for mean, b, p in zip(means, before, D.parameters()):  # (theta0 + theta after the step) / 2
        torch.testing.assert_close(mean, (b + p.detach()) / 2)


def test_historical_averaging_trains_both_players_and_resumes_bit_for_bit(tiny_run, tmp_path):
    run = tiny_run(steps=4, historical_averaging_weight=0.1, ckpt_every=2, keep_last=5)
    whole = fit(TOY, run, tmp_path / "whole")
    tensors, _ = read_checkpoint(whole)
    assert int(tensors["history_G.count"]) == 4 and int(tensors["history_D.count"]) == 4
    lines = (tmp_path / "whole" / "metrics.jsonl").read_text().splitlines()
    assert all(f'"{p}/historical"' in lines[-1] for p in ("G", "D"))

    half = tiny_run(steps=2, historical_averaging_weight=0.1, ckpt_every=2, keep_last=5)
    fit(TOY, half, tmp_path / "split")
    resumed = fit(TOY, tiny_run(steps=4, historical_averaging_weight=0.1, ckpt_every=2, keep_last=5),
                  tmp_path / "split", resume=True)
    again, _ = read_checkpoint(resumed)
    for name in ("G.", "D.", "history_G.", "history_D."):
        keys = [k for k in tensors if k.startswith(name)]
        assert keys and all(torch.equal(tensors[k], again[k]) for k in keys), name


def test_one_sided_label_smoothing_reaches_the_discriminator_loss(tiny_run, tmp_path):
    trainer = _trainer(TOY, tiny_run(label_smoothing=0.9, r1_weight=0.0, ema_decay=0.0), tmp_path)
    batch = next(trainer.stream)
    fake = trainer.obj.generate(trainer.G, batch).detach()
    D = copy.deepcopy(trainer.D_raw)
    terms = trainer.d_step(batch, fake)
    real_logits, fake_logits = D(trainer.obj.real(batch)), D(fake)
    game = get_game("nonsaturating")
    torch.testing.assert_close(terms["D/adv"], game.d_loss(real_logits, fake_logits, label_smoothing=0.9).detach())
    assert not torch.allclose(terms["D/adv"], game.d_loss(real_logits, fake_logits).detach())


@pytest.mark.parametrize("key, text, says", [
    ("train.feature_matching_weight", "nan", "must be a finite number"),
    ("train.feature_matching_weight", "-1", "must be >= 0"),
    ("train.historical_averaging_weight", "inf", "must be a finite number"),
    ("train.historical_averaging_weight", "-0.5", "must be >= 0"),
    ("model.virtual_bn", "-4", "must be >= 0"),
    ("model.virtual_bn", "nan", "must be a whole number"),
    ("model.minibatch_kernels", "-1", "must be >= 0"),
    ("model.minibatch_kernels", "2.5", "must be a whole number"),
])
def test_the_options_refuse_bad_values_naming_the_field(key, text, says):
    with pytest.raises(UserError, match=f"{key} {says}"):
        apply_overrides(CONDITIONAL.recipe("tiny"), [f"{key}={text}"])


def test_minibatch_discrimination_on_the_concat_critic_is_refused_naming_the_field():
    from gan_app.build import check_model_config

    run = apply_overrides(CONDITIONAL.recipe("cgan"), ["model.minibatch_kernels=8"])
    with pytest.raises(UserError, match=r"^model\.minibatch_kernels: .*projection or acgan"):
        check_model_config(CONDITIONAL, run.model)
