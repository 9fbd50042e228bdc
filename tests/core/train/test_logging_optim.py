"""Metrics log, term meter, loss plot; optimizers and the learning-rate schedule."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from gan_app.config import TrainConfig
from gan_app.errors import UserError
from gan_app.train.logging import MetricsLog, TermMeter, plot_losses, read_metrics
from gan_app.train.optim import build_optimizer, lr_factor


def test_meter_averages_between_pops():
    meter = TermMeter()
    meter.add(["G/adv", "D/adv"], torch.tensor([1.0, 4.0]))
    meter.add(["G/adv", "D/adv"], torch.tensor([3.0, 6.0]))
    assert meter.pop() == {"G/adv": 2.0, "D/adv": 5.0}
    assert meter.pop() == {}
    meter.add(["G/adv"], torch.tensor([7.0]))
    assert meter.pop() == {"G/adv": 7.0}


def test_log_truncates_after_resume_and_skips_torn_lines(tmp_path):
    log = MetricsLog(tmp_path / "metrics.jsonl")
    for step in (10, 20, 30):
        log.write({"step": step, "G/adv": step / 10})
    with open(log.path, "a") as fh:
        fh.write('{"step": 40, "G/a')  # a crash mid-line
    assert [r["step"] for r in read_metrics(log.path)] == [10, 20, 30]
    log.truncate_after(20)
    assert [json.loads(line)["step"] for line in log.path.read_text().splitlines()] == [10, 20]


def test_plot_losses_draws_one_panel_per_player(tmp_path):
    log = MetricsLog(tmp_path / "m.jsonl")
    for step in range(1, 6):
        log.write({"step": step, "G/adv": 1.0 / step, "G/l1": 0.5, "D/adv": 1.4, "D/r1": float("nan"), "lr_g": 1e-3})
    png = plot_losses(log.path, tmp_path / "losses.png")
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == (1100, 400)


def test_linear_schedule_holds_then_decays_to_one_step_above_zero():
    cfg = TrainConfig(steps=10, lr_schedule="linear", decay_start=4)
    factors = [lr_factor(s, cfg) for s in range(10)]
    assert factors[:4] == [1.0] * 4
    assert factors[4:] == pytest.approx([6 / 6, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 1 / 6])
    assert [lr_factor(s, TrainConfig(steps=10)) for s in range(10)] == [1.0] * 10


def test_cosine_schedule_and_warmup():
    cfg = TrainConfig(steps=10, lr_schedule="cosine", decay_start=4)
    factors = [lr_factor(s, cfg) for s in range(10)]
    assert factors[:5] == [1.0] * 5                      # held, then cos(0) at the decay's first step
    assert factors[7] == pytest.approx(1 / 6 + 5 / 6 * 0.5)   # half-way down the half cosine
    assert factors[-1] > 1 / 6 and all(a > b for a, b in zip(factors[4:], factors[5:]))
    warm = TrainConfig(steps=10, warmup_steps=4)
    assert [lr_factor(s, warm) for s in range(6)] == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])
    both = TrainConfig(steps=10, lr_schedule="linear", decay_start=0, warmup_steps=2)
    assert lr_factor(0, both) == pytest.approx(0.5 * 10 / 10) and lr_factor(5, both) == pytest.approx(5 / 10)


def test_grad_clip_bounds_the_update_and_is_checked():
    """With SGD at lr 1: with grad_clip the gradients reaching the optimizer have norm <= the bound."""
    from gan_app.train.devices import Precision

    w = torch.nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([w], lr=1.0)
    Precision(torch.device("cpu"), None).step((w * torch.tensor([300.0, 400.0, 0.0])).sum(), opt, clip_norm=2.0)
    assert torch.linalg.vector_norm(w.detach()) == pytest.approx(2.0)       # the step is the clipped gradient
    torch.testing.assert_close(w.detach() / 2.0, -torch.tensor([0.6, 0.8, 0.0]))
    w2 = torch.nn.Parameter(torch.zeros(3))
    opt2 = torch.optim.SGD([w2], lr=1.0)
    Precision(torch.device("cpu"), None).step((w2 * torch.tensor([300.0, 400.0, 0.0])).sum(), opt2)
    assert torch.linalg.vector_norm(w2.detach()) == pytest.approx(500.0)    # off by default
    from gan_app.config import check_section

    with pytest.raises(UserError, match=r"train.grad_clip must be >= 0"):
        check_section(TrainConfig(grad_clip=-1.0), "train")
    with pytest.raises(UserError, match=r"train.warmup_steps must be >= 0"):
        check_section(TrainConfig(warmup_steps=-5), "train")


def test_wgan_rmsprop_and_adam_betas():
    params = [torch.nn.Parameter(torch.zeros(2))]
    rms = build_optimizer(params, 5e-5, TrainConfig(optimizer="rmsprop"))
    assert isinstance(rms, torch.optim.RMSprop) and rms.param_groups[0]["lr"] == 5e-5
    adam = build_optimizer(params, 1e-3, TrainConfig(betas=(0.0, 0.99)))
    assert isinstance(adam, torch.optim.Adam) and adam.param_groups[0]["betas"] == (0.0, 0.99)
    with pytest.raises(UserError, match="unknown optimizer"):
        build_optimizer(params, 1e-3, TrainConfig(optimizer="sgd"))
