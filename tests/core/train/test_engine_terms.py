"""Engine terms a broken implementation would skip: the WGAN-GP penalty in the D step, `ema_start` in a run."""

from __future__ import annotations

import copy

import torch

from gan_app.apps.toy.head import HEAD
from gan_app.checkpoint import read_checkpoint
from gan_app.losses.regularizers import gradient_penalty
from gan_app.train import distributed
from gan_app.train.loop import Trainer, fit


def test_d_step_adds_the_wgan_gp_penalty_on_real_and_fake(tiny_run, tmp_path):
    run = tiny_run(loss="wgan", gp_weight=10.0, r1_weight=0.0, ema_decay=0.0)
    trainer = Trainer(HEAD, run, tmp_path, distributed.DistEnv(), torch.device("cpu"))
    batch = next(trainer.stream)
    fake = trainer.obj.generate(trainer.G, batch).detach()
    real = trainer.obj.real(batch)
    critic_before = copy.deepcopy(trainer.D_raw)
    state = torch.get_rng_state()
    terms = trainer.d_step(batch, fake)
    torch.set_rng_state(state)                    # the same interpolation weights as the step drew
    expected = gradient_penalty(critic_before, real.detach(), fake)
    torch.testing.assert_close(terms["D/gp"], expected.detach())
    torch.testing.assert_close(terms["D/total"], terms["D/adv"] + 10.0 * terms["D/gp"])
    # a penalty on fake vs fake (or real vs real) is a different number: the test would see it
    torch.set_rng_state(state)
    assert not torch.allclose(gradient_penalty(critic_before, fake, fake), expected)
    assert float(terms["D/gp"]) > 0


def test_ema_start_copies_the_generator_until_its_step(tiny_run, tmp_path):
    def shadow_and_raw(start: int, out):
        tensors = read_checkpoint(fit(HEAD, tiny_run(steps=3, ema_decay=0.5, ema_start=start, lr_g=1e-2), out))[0]
        names = [k.removeprefix("G.") for k in tensors if k.startswith("G.")]
        return [(tensors[f"G_ema.{n}"], tensors[f"G.{n}"]) for n in names]

    copied = shadow_and_raw(3, tmp_path / "late")       # updates at generator steps 0, 1, 2 < 3: plain copies
    assert all(torch.equal(ema, raw) for ema, raw in copied)
    averaged = shadow_and_raw(0, tmp_path / "early")
    assert not all(torch.equal(ema, raw) for ema, raw in averaged)
